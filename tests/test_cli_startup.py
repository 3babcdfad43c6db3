"""The `allocator` command starts without the web framework or the database layer: `solve`
must stay fast, so importing the CLI loads neither (they are loaded by `serve` and `keys`)."""

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn")
CHECK = (
    f"import sys, cli.main, api.jobs; print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY!r})))"
)


def test_importing_the_cli_loads_no_web_or_database_code() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_the_cli_starts_without_the_workbook_and_table_libraries() -> None:
    """openpyxl (workbooks) and rich's tables (the demo's summary) are imported by the commands that
    use them (README, "Reading large cases quickly"): `solve` on a folder needs neither."""
    check = "import sys, cli.main; print(sorted({name.split('.')[0] for name in sys.modules} & {'openpyxl', 'rich'}))"
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_solving_a_case_without_travel_times_never_loads_pandas(tmp_path: Path) -> None:
    """pandas (about 0.2 s to import) reads travel_times.csv only (`data/travel.py`): a whole
    `allocator solve` of a case with estimated travel runs without it."""
    check = (
        "import sys; from pathlib import Path; import cli.main\n"
        f"sys.argv = ['allocator', 'solve', str(Path({str(REPO)!r}) / 'data' / 'lancashire' / 'case'), '--out', "
        f"{str(tmp_path)!r}]\n"
        "try:\n    cli.main.main()\nexcept SystemExit:\n    pass\n"
        "print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stdout + done.stderr
