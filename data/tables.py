"""Raw tables with line numbers, from CSV files (or workbook sheets), before typing.

A `RawTable` keeps every cell as text and the line each row came from, so that every
later check can say `file:line: column: message`.
"""

import csv
import io
from dataclasses import dataclass, field

from models.problems import Problem


@dataclass
class RawTable:
    """Cells as text. `lines[i]` is the source line (or sheet row) of `rows[i]`."""

    name: str
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)

    def column_index(self) -> dict[str, int]:
        return {column: index for index, column in enumerate(self.header)}


def parse_csv_text(name: str, text: str, problems: list[Problem]) -> RawTable | None:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    table: RawTable | None = None
    try:
        for record in reader:
            if header is None:
                if not any(cell.strip() for cell in record):
                    continue
                header = [cell.strip() for cell in record]
                table = RawTable(name, header)
                _check_header(name, reader.line_num, header, problems)
                continue
            assert table is not None
            if not any(cell.strip() for cell in record):
                continue  # blank line
            if len(record) != len(header):
                problems.append(
                    Problem(
                        name,
                        reader.line_num,
                        "-",
                        f"row has {len(record)} fields but the header has {len(header)}",
                    )
                )
                continue
            table.rows.append([cell.strip() for cell in record])
            table.lines.append(reader.line_num)
    except csv.Error as error:
        problems.append(Problem(name, reader.line_num, "-", f"malformed CSV: {error}"))
        return None
    if table is None:
        problems.append(Problem(name, 0, "-", "file is empty (no header row)"))
    return table


def _check_header(name: str, line: int, header: list[str], problems: list[Problem]) -> None:
    seen: set[str] = set()
    for column in header:
        if not column:
            problems.append(Problem(name, line, "-", "header has an empty column name"))
        elif column in seen:
            problems.append(Problem(name, line, column, "column appears twice in the header"))
        seen.add(column)
