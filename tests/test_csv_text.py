"""`data.outputs.csv_text` and `csv_columns_text` write what Python's csv.writer writes (CR LF
line ends made bare newlines, every cell through the formula-injection rule), on hostile cells:
formula starts, commas, double quotes, carriage returns and newlines anywhere, empty cells alone on
a row, numbers, None and booleans."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from data.outputs import csv_columns_text, csv_text, safe_cell, safe_cells
from tests.core.writing_reference import csv_text as reference_csv_text

HOSTILE = st.text(alphabet=st.sampled_from(list("=+-@\t\r\n,\"' aZ1é")), max_size=6)
CELLS = st.one_of(HOSTILE, st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.none(), st.booleans())


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], list[list[object]]]:
    width = draw(st.integers(1, 4))
    columns = draw(st.lists(HOSTILE, min_size=width, max_size=width))
    rows: list[list[object]] = draw(st.lists(st.lists(CELLS, min_size=width, max_size=width), max_size=8))
    return columns, rows


@settings(max_examples=300)
@given(tables())
def test_the_text_is_what_the_csv_module_writes(table: tuple[list[str], list[list[object]]]) -> None:
    columns, rows = table
    expected = reference_csv_text(columns, rows)
    assert csv_text(columns, rows) == expected
    by_column = [[row[i] for row in rows] for i in range(len(columns))]
    assert csv_columns_text(columns, by_column) == expected


@given(st.lists(CELLS))
def test_safe_cells_is_safe_cell_of_each(cells: list[object]) -> None:
    assert safe_cells(cells) == [safe_cell(cell) for cell in cells]


def test_rows_and_columns_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError):
        csv_text(("a", "b"), [("1",)])
    with pytest.raises(ValueError):
        csv_columns_text(("a", "b"), [["1"]])
    with pytest.raises(ValueError):
        csv_columns_text(("a", "b"), [["1"], ["2", "3"]])
