"""Reading large cases quickly (README): each short cut the reader takes gives what the long way
gives. Text without a quote is read by the csv module in one call (`csv_records`), as if record by
record (`streamed_records`); cells are looked at one by one only where the text may hold a refused
character; rows are typed by one pydantic call over the list, and each row on its own as soon as
one is invalid; the cycle collector is paused while a case is read. A bad row in the middle of a
large file is found at its line, with the message a small file gives."""

import contextlib
import csv
import gc
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from data import tables
from data.loader import collector_paused, load_case_files
from data.rows import friendly_message, typed_rows
from data.tables import CsvError, RawTable, csv_records, parse_csv_text, streamed_records
from models.case import Child, Preference
from models.problems import CaseInvalid, Problem
from tests.conftest import VALID_CASE

# Characters that make CSV interesting: separators, line ends, spaces around cells, refused ones
# (tab, NUL, a format character, a line separator), a printable non-ASCII letter and a non-breaking
# space (not printable, not refused).
CSV_ALPHABET = st.sampled_from(list("ab1,, \r\n\t\0\ufeff\u2028é\xa0"))
QUOTED_ALPHABET = st.sampled_from(list('ab1,, \r\n\t\0\ufeff\u2028é\xa0"'))


def records_or_error(read: Any, text: str) -> tuple[list[tuple[int, list[str]]], tuple[int, str] | None]:
    """Every record read before an error, and the error's line and message (None if there is none)."""
    records: list[tuple[int, list[str]]] = []
    try:
        for record in read(text):
            records.append(record)
    except CsvError as error:
        return records, (error.line, error.message)
    return records, None


@settings(max_examples=300, deadline=None)
@given(st.text(CSV_ALPHABET, max_size=60))
def test_text_without_quotes_read_in_one_call_as_record_by_record(text: str) -> None:
    assert records_or_error(csv_records, text) == records_or_error(streamed_records, text)


def test_a_file_the_csv_module_refuses_still_yields_the_rows_before_the_error() -> None:
    too_long = "x" * (csv.field_size_limit() + 1)
    text = f"a,b\n1,2\n3,{too_long}\n5,6\n"
    records, error = records_or_error(csv_records, text)
    assert (records, error) == records_or_error(streamed_records, text)
    assert records == [(1, ["a", "b"]), (2, ["1", "2"])]
    assert error is not None and error[0] == 3


Parsed = tuple[tuple[list[str], list[list[str]], list[int], set[int]] | None, list[Problem]]


def parsed(text: str, every_cell: bool = False) -> Parsed:
    """parse_csv_text's table and problems; `every_cell`: the long way, every cell of every row
    looked at for a refused character."""
    problems: list[Problem] = []
    with (
        mock.patch.object(tables, "refused_characters_possible", return_value=(True, False))
        if every_cell
        else (contextlib.nullcontext())
    ):
        table = parse_csv_text("x.csv", text, problems)
    return (None if table is None else (table.header, table.rows, table.lines, table.refused)), problems


@settings(max_examples=400, deadline=None)
@given(st.text(QUOTED_ALPHABET, max_size=60))
def test_cells_looked_at_only_where_a_refused_character_may_be_give_the_same_problems(text: str) -> None:
    assert parsed(text) == parsed(text, every_cell=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2\n", (False, False)),
        ('a,b\n"1,5",2\n', (False, True)),  # a quoted cell may hold a line end
        ("a,b\n1,2\t\n", (True, False)),
        ("a,b\r\n1,\xa02\r\n", (True, False)),  # not printable: looked at, though not refused
    ],
)
def test_where_refused_characters_are_possible(text: str, expected: tuple[bool, bool]) -> None:
    assert tables.refused_characters_possible(text) == expected


def test_a_line_end_in_a_quoted_cell_of_a_large_file_is_found_at_its_record() -> None:
    rows = [f"K{index},ASD,9,53.8,-2.4" for index in range(5_000)]
    rows[2_500] = '"K2500\nX",ASD,9,53.8,-2.4'  # the record spans lines 2502 and 2503
    problems: list[Problem] = []
    table = parse_csv_text("children.csv", "child_id,need,age,lat,lon\n" + "\n".join(rows) + "\n", problems)
    assert problems == [Problem("children.csv", 2503, "child_id", "'K2500\\nX' contains a control character (U+000A)")]
    assert table is not None and table.refused == {2503} and len(table.rows) == 5_000


def typed_row_by_row(
    table: RawTable, model: type[BaseModel], columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[int, BaseModel]], list[Problem], set[int]]:
    """The rows typed one call per row: an independent reading of the rule in `typed_rows`' docstring."""
    index = table.column_index()
    typed: list[tuple[int, BaseModel]] = []
    problems: list[Problem] = []
    failed: set[int] = set()
    for line, row in zip(table.lines, table.rows, strict=True):
        if line in table.refused:
            failed.add(line)
            continue
        cells = {column: row[index[column]] for column in columns if column in index}
        empty = [column for column in cells if cells[column] == "" and column in required]
        problems += [Problem(table.name, line, column, "required value is empty") for column in empty]
        if empty:
            failed.add(line)
            continue
        try:
            typed.append((line, model.model_validate({c: v for c, v in cells.items() if v != ""})))
        except ValidationError as error:
            failed.add(line)
            for detail in error.errors():
                column = str(detail["loc"][0]) if detail["loc"] else "-"
                problems.append(Problem(table.name, line, column, friendly_message(detail)))
    return typed, problems, failed


CHILD_COLUMNS = ("child_id", "need", "age", "lat", "lon", "priority", "district", "locked_school_id", "ward")
CHILD_REQUIRED = ("child_id", "need", "age", "lat", "lon")
CELL_VALUES = {
    "need": ["ASD", "SEMH", "asd", ""],
    "age": ["7", "25", "26", "-1", "7.0", "x", ""],
    "lat": ["53.8", "90.5", "nan", "1e400", ""],
    "lon": ["-2.4", "-181", ""],
    "priority": ["0", "100", "101", ""],
    "district": ["Preston", "", "y" * 201],
    "locked_school_id": ["S1", "", "z" * 65],
}


def child_table(rows: list[list[str]], refused: set[int]) -> RawTable:
    header = ["child_id", "need", "age", "lat", "lon", "priority", "district", "locked_school_id", "other"]
    lines = [2 + 2 * index for index in range(len(rows))]  # gaps, as blank lines leave
    return RawTable("children.csv", header, rows, lines, {lines[i] for i in refused if i < len(rows)})


@st.composite
def child_rows(draw: st.DrawFn) -> tuple[list[list[str]], set[int]]:
    count = draw(st.integers(0, 12))
    rows = []
    for index in range(count):
        cells = [draw(st.sampled_from(["", f"K{index}"]))] if draw(st.booleans()) else [f"K{index}"]
        cells += [draw(st.sampled_from(CELL_VALUES[column])) for column in CHILD_COLUMNS[1:8]]
        rows.append(cells + ["ignored"])
    return rows, draw(st.sets(st.integers(0, 12), max_size=2))


@settings(max_examples=300, deadline=None)
@given(child_rows())
def test_rows_typed_in_one_call_as_row_by_row(drawn: tuple[list[list[str]], set[int]]) -> None:
    table = child_table(*drawn)
    problems: list[Problem] = []
    failed: set[int] = set()
    typed = typed_rows(table, Child, CHILD_COLUMNS, CHILD_REQUIRED, problems, failed)
    expected_typed, expected_problems, expected_failed = typed_row_by_row(table, Child, CHILD_COLUMNS, CHILD_REQUIRED)
    assert typed == expected_typed
    assert [(line, child.model_fields_set) for line, child in typed] == [
        (line, child.model_fields_set) for line, child in expected_typed
    ]
    # problems are listed in reading order (CaseInvalid sorts them): the order found does not matter
    assert (sorted(problems), failed) == (sorted(expected_problems), expected_failed)


def test_all_valid_rows_are_the_models_one_call_per_row_gives() -> None:
    rows = [
        [f"K{i}", "ASD", str(i % 20), f"53.{i:04d}", "-2.4", str(i % 3), "", "S1" if i % 7 else "", "x"]
        for i in range(3_000)
    ]
    table = child_table(rows, set())
    problems: list[Problem] = []
    typed = typed_rows(table, Child, CHILD_COLUMNS, CHILD_REQUIRED, problems)
    assert problems == []
    assert typed == typed_row_by_row(table, Child, CHILD_COLUMNS, CHILD_REQUIRED)[0]
    assert len(typed) == 3_000


def large_case(children: list[str], preferences: list[str]) -> dict[str, bytes]:
    files = {name: text.encode() for name, text in VALID_CASE.items() if name != "travel_times.csv"}
    files["children.csv"] = ("child_id,need,age,lat,lon,priority\n" + "".join(children)).encode()
    files["preferences.csv"] = ("child_id,school_id,rank\n" + "".join(preferences)).encode()
    return files


def test_bad_rows_in_the_middle_of_a_large_case_are_found_where_a_small_case_finds_them() -> None:
    children = [f"K{i},ASD,9,53.8,-2.41,0\n" for i in range(20_000)]
    preferences = [f"K{i},S1,1\n" for i in range(20_000)]
    children[9_999] = "K9999,ASD,1x,53.8,-2.41,0\n"  # line 10001
    children[15_000] = "K15000,ASD,9,53.8,-2.41,101\n"  # line 15002
    children[15_001] = "K5,ASD,9,53.8,-2.41,0\n"  # line 15003: K5 is on line 7
    preferences[12_345] = "K12345,S9,1\n"  # line 12347
    preferences[12_346] = "K12345,S1,1\n"  # line 12348
    with pytest.raises(CaseInvalid) as raised:
        load_case_files(large_case(children, preferences))
    assert raised.value.lines() == [
        "children.csv:10001: age: '1x' is not a whole number",
        "children.csv:15002: priority: 101 is above the largest allowed value 100",
        "children.csv:15003: child_id: duplicate id 'K5' (first on line 7)",
        "preferences.csv:12347: school_id: unknown school 'S9'",
        "preferences.csv:12348: rank: rank 1 is already used for this child on line 12347",
        "preferences.csv:15003: child_id: unknown child 'K15001'",  # its row now holds K5
    ]
    # the same rows in a small case: the same messages
    small_children = [children[i] for i in (5, 9_999, 15_000, 15_001)]
    with pytest.raises(CaseInvalid) as small:
        load_case_files(large_case(small_children, []))
    assert [line.split(": ", 1)[1] for line in small.value.lines()][:2] == [
        line.split(": ", 1)[1] for line in raised.value.lines()[:2]
    ]


def test_a_large_valid_case_reads_to_the_models_of_its_rows() -> None:
    children = [f"K{i},{'ASD' if i % 2 else 'SEMH'},{4 + i % 14},53.{i:05d},-2.41,{i % 3}\n" for i in range(20_000)]
    loaded = load_case_files(large_case(children, [f"K{i},S1,1\n" for i in range(0, 20_000, 2)]))
    rows = [line.rstrip("\n").split(",") for line in children]
    header = ("child_id", "need", "age", "lat", "lon", "priority")
    assert loaded.case.children == tuple(Child.model_validate(dict(zip(header, row, strict=True))) for row in rows)
    assert loaded.case.preferences == tuple(
        Preference(child_id=f"K{i}", school_id="S1", rank=1) for i in range(0, 20_000, 2)
    )


def test_the_collector_is_paused_while_reading_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(CaseInvalid), collector_paused():
        load_case_files({})
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # left as the caller had it
    finally:
        gc.enable()
