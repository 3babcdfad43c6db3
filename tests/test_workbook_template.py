"""The template workbook is the same bytes every time, and opens with every sheet."""

import time
from pathlib import Path

import openpyxl

from data.workbook import SHEET_COLUMNS, write_template


def test_template_is_byte_identical_across_writes(tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    write_template(first)
    time.sleep(1.1)  # zip entries carry seconds: a clock tick must not show
    write_template(second)
    assert first.read_bytes() == second.read_bytes()
    book = openpyxl.load_workbook(first, read_only=True)
    assert set(SHEET_COLUMNS) <= set(book.sheetnames)
    assert "notes" in book.sheetnames
