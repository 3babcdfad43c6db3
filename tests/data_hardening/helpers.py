"""Shared by the hardening tests: run the installed command on a broken case and read back every
problem it printed; build a case workbook from the small valid case."""

import csv
import io
import re
import tomllib
from pathlib import Path

import openpyxl

from tests.conftest import VALID_CASE, CliRunner, write_case

# One problem is one line: `file:line: column: message`, the column never holding a colon.
PROBLEM = re.compile(r"^[^:\n]+:\d+: [^:\n]+: [^\n]+$")
Files = dict[str, str | bytes | None]


def case_with(folder: Path, changes: Files) -> Path:
    """VALID_CASE with `changes` (None removes a file) written to `folder`."""
    files: dict[str, str | bytes] = {
        name: content for name, content in {**VALID_CASE, **changes}.items() if content is not None
    }
    return write_case(folder, files)


def cli_problems(run_cli: CliRunner, *arguments: str | Path, out: Path) -> list[str]:
    """Run `allocator ARGUMENTS --out OUT`; it must exit 2, write nothing and print only problem
    lines (no warning, no traceback). Returns those lines."""
    result = run_cli(*arguments, "--out", out)
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert not out.exists()
    lines = result.stderr.splitlines()
    assert lines and all(PROBLEM.match(line) for line in lines), result.stderr
    assert result.stderr.count("\n") == len(lines)  # no line broken by a character inside a cell
    return lines


def workbook_from(files: dict[str, str], path: Path) -> Path:
    """The case's CSV files as sheets of one workbook (numbers typed as numbers, as an officer's
    spreadsheet holds them), policy.toml as a `key, value` sheet."""
    book = openpyxl.Workbook()
    assert book.active is not None
    book.remove(book.active)
    for name, text in files.items():
        sheet = book.create_sheet(name.rsplit(".", 1)[0])
        rows = _policy_rows(text) if name == "policy.toml" else list(csv.reader(io.StringIO(text)))
        for row in rows:
            sheet.append([_typed(cell) for cell in row])
    book.save(path)
    return path


def set_cells(path: Path, cells: dict[str, dict[str, object]]) -> None:
    """Set cells (sheet -> address -> value) of a workbook."""
    book = openpyxl.load_workbook(path)
    for sheet, values in cells.items():
        for address, value in values.items():
            book[sheet][address] = value
    book.save(path)


def _policy_rows(text: str) -> list[list[str]]:
    rows = [["key", "value"]]
    for key, value in tomllib.loads(text).items():
        if isinstance(value, dict):
            rows += [[f"{key}.{inner}", str(setting)] for inner, setting in value.items()]
        else:
            rows.append([key, str(value)])
    return rows


def _typed(cell: str) -> object:
    if re.fullmatch(r"-?\d+", cell):
        return int(cell)
    if re.fullmatch(r"-?\d+\.\d+", cell):
        return float(cell)
    return cell
