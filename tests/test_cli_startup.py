"""The `allocator` command starts without the web framework or the database layer: `solve`
must stay fast, so importing the CLI loads neither (they are loaded by `serve` and `keys`)."""

import subprocess
import sys

from tests.conftest import REPO

HEAVY = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn")
CHECK = (
    f"import sys, cli.main, api.jobs; print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY!r})))"
)


def test_importing_the_cli_loads_no_web_or_database_code() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]", done.stdout
