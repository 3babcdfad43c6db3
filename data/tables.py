"""Raw tables with line numbers, from CSV files (or workbook sheets), before typing.

A `RawTable` keeps every cell as text and the line each row came from, so that every
later check can say `file:line: column: message`. A cell holding a refused character
(a control or format character: newline, carriage return, tab, NUL, a byte-order mark, ...;
`models.case.REFUSED_CATEGORIES`) is a problem where it is read, shown escaped, and its row is
not typed (`RawTable.refused`).
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field

from models.case import MAX_ID_LENGTH, escaped, first_refused_character, refused_character_message, shown
from models.problems import Problem


@dataclass
class RawTable:
    """Cells as text. `lines[i]` is the source line (or sheet row) of `rows[i]`; `refused` holds
    the lines of rows with a refused character in a cell (each already a problem)."""

    name: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    refused: set[int] = field(default_factory=set)
    header_line: int = 1

    def column_index(self) -> dict[str, int]:
        return {column: index for index, column in enumerate(self.header)}


def column_label(name: str) -> str:
    """A column or key name as the `column` part of a problem: itself when it is short printable
    text without a colon, else `-` (the message then names it), so that a problem stays one
    `file:line: column: message` line."""
    if 0 < len(name) <= MAX_ID_LENGTH and ":" not in name and first_refused_character(name) is None:
        return name
    return "-"


def repeated_column_message(column: str) -> str:
    if column_label(column) == "-":
        return f"column '{shown(column)}' appears twice in the header"
    return "column appears twice in the header"


def check_header_cells(name: str, line: int, cells: list[str], problems: list[Problem]) -> None:
    """A problem for each header cell holding a refused character."""
    for cell in cells:
        char = first_refused_character(cell)
        if char is not None:
            problems.append(Problem(name, line, "-", "header cell " + refused_character_message(cell, char)))


def check_row_cells(table: RawTable, line: int, cells: list[str], problems: list[Problem]) -> None:
    """A problem for each cell of a row holding a refused character; the row is then refused."""
    for index, cell in enumerate(cells):
        char = first_refused_character(cell)
        if char is not None:
            column = column_label(table.header[index]) if index < len(table.header) else "-"
            problems.append(Problem(table.name, line, column, refused_character_message(cell, char)))
            table.refused.add(line)


def csv_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line, cells) of each record of CSV text, `line` being the record's last line; raises
    CsvError(line, message).

    Python's csv module stops at a NUL; it is read as a character the text does not hold and
    restored in the cells, so that a NUL is a located problem in its cell like any control
    character.

    Text without a quote (the usual large file) is read in one call: each of its lines is one
    record, so the record's line is its position. Anything else, or a file the csv module
    refuses, is read record by record (`streamed_records`), which counts the lines as it goes."""
    if '"' not in text and "\0" not in text:
        try:
            records = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error:
            pass  # read again below, so that the rows before the error are yielded first
        else:
            yield from enumerate(records, 1)
            return
    yield from streamed_records(text)


def streamed_records(text: str) -> Iterator[tuple[int, list[str]]]:
    """`csv_records` read record by record, each with the line the reader has reached."""
    nul = _unused_character(text) if "\0" in text else None
    if nul is not None:
        text = text.replace("\0", nul)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for record in reader:
            yield reader.line_num, record if nul is None else [cell.replace(nul, "\0") for cell in record]
    except csv.Error as error:
        raise CsvError(reader.line_num, f"malformed CSV: {escaped(str(error))}") from None


class CsvError(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


def refused_characters_possible(text: str) -> tuple[bool, bool]:
    """Where a cell read from CSV `text` may hold a refused character, decided by one pass over the
    whole text instead of one per cell: (anywhere, only in a record spanning several lines).

    Line ends outside quotes end a record and are in no cell, so when the text around them is
    printable no cell holds a refused character (`first_refused_character`'s own fast path). A
    quoted cell may hold a line end; its record then spans more than one line, and only such
    records need a look."""
    if not text.replace("\r", "").replace("\n", "").isprintable():
        return True, False
    return False, '"' in text


def parse_csv_text(name: str, text: str, problems: list[Problem]) -> RawTable | None:
    header: list[str] | None = None
    table: RawTable | None = None
    # Cells are looked at one by one only where the text may hold a refused character.
    anywhere, in_long_records = refused_characters_possible(text)
    previous_line = 0
    try:
        for line, record in csv_records(text):
            long_record, previous_line = line - previous_line > 1, line
            cells = list(map(str.strip, record))
            if not any(cells):
                continue  # blank line (or blank lines before the header)
            if header is None:
                check_header(name, line, record, problems)
                header = cells
                table = read = RawTable(name, header, header_line=line)
                continue
            if len(record) != len(header):
                problems.append(
                    Problem(name, line, "-", f"row has {len(record)} fields but the header has {len(header)}")
                )
                continue
            if anywhere or (in_long_records and long_record):
                check_row_cells(read, line, record, problems)
            read.rows.append(cells)
            read.lines.append(line)
    except CsvError as error:
        problems.append(Problem(name, error.line, "-", error.message))
        return None
    if table is None:
        problems.append(Problem(name, 0, "-", "file is empty (no header row)"))
    return table


def _unused_character(text: str) -> str | None:
    """A private-use character that `text` does not hold; None if it holds every one (then the
    csv module reports the NUL itself, for the file as a whole)."""
    codes = (*range(0xF8FF, 0xE000, -1), *range(0xFFFFD, 0xF0000, -1))
    return next((chr(code) for code in codes if chr(code) not in text), None)


def check_header(name: str, line: int, record: list[str], problems: list[Problem], empty_allowed: bool = False) -> None:
    """Problems of a CSV header as read (before its cells are stripped): refused characters,
    empty column names (unless `empty_allowed`), repeated names."""
    check_header_cells(name, line, record, problems)
    seen: set[str] = set()
    for column in (cell.strip() for cell in record):
        if not column:
            if not empty_allowed:
                problems.append(Problem(name, line, "-", "header has an empty column name"))
        elif column in seen:
            problems.append(Problem(name, line, column_label(column), repeated_column_message(column)))
        seen.add(column)
