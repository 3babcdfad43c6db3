"""The tests and benchmarks need nothing outside the repository: a fresh clone has no team
folder (`shared`) beside it. A static check reads every test and bench source for paths that leave the repository;
tests/outside_reads.py catches, at run time, a test that opens a file there anyway."""

import re
from pathlib import Path

import pytest

from bench import orlib
from tests import outside_reads

REPO = Path(__file__).resolve().parent.parent

# The patterns are assembled from pieces so that this file, which is scanned too, does not match itself.
SIBLING = "shared"
FILE = "__file__"
DEV = "work"
OUTSIDE = {
    "a relative path into the team folder beside the repository": re.compile(r"\.\./" + SIBLING + r"\b"),
    "the team's benchmark collection": re.compile(r"\b" + SIBLING + r"/benchmarks\b"),
    "a path joined onto the team folder": re.compile(r"/\s*[\"']" + SIBLING + r"[\"']"),
    "an absolute path on a developer's machine": re.compile(r"[\"']/(?:" + DEV + r"|home|Users)/"),
}
# Path(__file__)[.resolve()].parents[k] or .parent.parent...: the folder k + 1 (or that many) levels up.
UP_FROM_HERE = re.compile(r"Path\(" + FILE + r"\)(?:\.resolve\(\))?(?:\.parents\[(\d+)\]|((?:\.parent\b)+))")


def _scanned() -> list[Path]:
    """Every test and bench source, the Makefile, pyproject.toml and the CI entry point (not the
    copied data's provenance notes, which say where the copy came from)."""
    files = [REPO / "Makefile", REPO / "pyproject.toml", *sorted((REPO / ".ci").glob("*"))]
    for folder in ("tests", "bench"):
        for suffix in ("*.py", "*.sh", "*.toml", "*.ini", "*.cfg"):
            files += sorted(p for p in (REPO / folder).rglob(suffix) if "__pycache__" not in p.parts)
    return [p for p in files if p.is_file()]


def problems_in(relative: Path, text: str) -> list[str]:
    """Each line of `text` (the file at `relative` in the repository) that reaches outside it."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        found += [f"{relative}:{number}: {what}: {line.strip()}" for what, p in OUTSIDE.items() if p.search(line)]
        for match in UP_FROM_HERE.finditer(line):
            levels = int(match[1]) + 1 if match[1] is not None else match[2].count(".parent")
            if levels > len(relative.parts):  # from tests/core/x.py, 3 levels up is the repository
                found.append(f"{relative}:{number}: {levels} folders up from the file leaves the repository")
    return found


def test_no_test_or_bench_source_names_a_path_outside_the_repository() -> None:
    files = _scanned()
    assert REPO / "tests" / "conftest.py" in files and REPO / "bench" / "orlib.py" in files
    assert Path(__file__).resolve() in files  # the check reads itself, and passes
    problems = [
        problem for path in files for problem in problems_in(path.relative_to(REPO), path.read_text(encoding="utf-8"))
    ]
    assert problems == []


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        ("bench/orlib.py", f'ORLIB = Path({FILE}).resolve().parents[2] / "{SIBLING}" / "benchmarks" / "orlib"'),
        ("bench/orlib.py", f"ORLIB = Path({FILE}).resolve().parents[2]"),
        ("tests/conftest.py", f"REPO = Path({FILE}).parent.parent.parent"),
        ("tests/core/test_x.py", f'CONTRACT = "../{SIBLING}/CONTRACT.md"'),
        ("tests/estates/test_x.py", f'OPTIMA = ROOT.parent / "{SIBLING}/benchmarks/orlib/optima.csv"'),
        ("tests/api/start.sh", f'DATA="/{DEV}/main/data"'),
    ],
)
def test_the_static_check_finds_paths_that_leave_the_repository(relative: str, line: str) -> None:
    assert problems_in(Path(relative), line)


@pytest.mark.parametrize(
    ("relative", "line"),
    [
        ("tests/core/test_fallbacks.py", f"ROOT = Path({FILE}).resolve().parents[2]"),
        ("tests/conftest.py", f"REPO = Path({FILE}).resolve().parent.parent"),
        ("bench/orlib.py", f'ORLIB = Path({FILE}).resolve().parent / "data" / "orlib"'),
        ("tests/report/report_fixtures.py", 'SAMPLE = Path(data.__file__).parent / "sample"'),
        ("allocator/options.py", "time_limit bounds the CP-SAT levels (seconds, shared by all levels)"),
    ],
)
def test_the_static_check_leaves_paths_inside_the_repository_alone(relative: str, line: str) -> None:
    assert problems_in(Path(relative), line) == []


def test_the_or_library_instances_the_tests_and_bench_read_are_in_the_repository() -> None:
    assert orlib.ORLIB.resolve().is_relative_to(REPO)
    assert (orlib.ORLIB / "COPY.md").is_file() and (orlib.ORLIB / "SOURCES.md").is_file()
    optima = orlib.published_optima()
    assert sorted(optima) == sorted(f"pmed{n}" for n in range(1, 11))  # bench_estates' default --pmed 1-10
    for name in optima:
        assert (orlib.ORLIB / "pmed" / f"{name}.txt").is_file()


def test_opening_a_file_beside_the_repository_is_caught_at_run_time(tmp_path: Path) -> None:
    outside_reads.take()
    (tmp_path / "inside.txt").write_text("x")
    (tmp_path / "inside.txt").read_text()
    (REPO / "pyproject.toml").read_text()
    assert outside_reads.take() == []
    probe = REPO.parent / SIBLING / "no-such-file.guard-probe"
    with pytest.raises(OSError):
        probe.open()  # the hook sees the attempt even though nothing is there
    with pytest.raises(OSError):
        list((probe / "folder").iterdir())
    assert outside_reads.take() == [str(probe), str(probe / "folder")]  # taken: the fixture does not fail this test
