"""Travel minutes: given figures from travel_times.csv, the contract's estimate for the rest.

Estimated minutes = ceil(geodesic_km * circuity / speed_kmh * 60), the geodesic on the WGS 84
ellipsoid, computed vectorised with pyproj (Karney's algorithm, as geographiclib and geopy).
"""

from __future__ import annotations

import io
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from pyproj import Geod

from data.arrays import BoolArray, FloatArray, IntArray
from data.rows import Ids, shown_message
from data.tables import CsvError, check_header, csv_records
from models.case import (
    MAX_CIRCUITY,
    MAX_GIVEN_MINUTES,
    MIN_SPEED_KMH,
    TravelEstimate,
    first_refused_character,
    refused_character_message,
    shown,
)
from models.problems import Problem

if TYPE_CHECKING:  # pandas loads in about 0.2 s: only a case with travel_times.csv needs it
    import pandas as pd

TRAVEL_FILE = "travel_times.csv"
MAX_LISTED = 50  # rows listed per kind of problem in one file; the rest are counted
_WGS84 = Geod(ellps="WGS84")
GEODESIC_SLICE = 1_000_000  # pairs priced per call of pyproj
# The longest geodesic on the WGS 84 ellipsoid is under 20,004 km (half a meridian is 20,003.93 km;
# antipodal points on the equator are joined over a pole). With the policy's limits, no estimate
# exceeds this many minutes (about 12 million), far inside the solver's 64-bit range; a test
# computes the worst in-range estimate and the flow weights it leads to.
MAX_GEODESIC_KM = 20_004.0
MAX_ESTIMATED_MINUTES = math.ceil(MAX_GEODESIC_KM * MAX_CIRCUITY / MIN_SPEED_KMH * 60)


@dataclass(frozen=True)
class TravelTable:
    """Given door-to-door minutes for (child index, school index) pairs, sorted by key."""

    keys: IntArray  # child_index * school_count + school_index, ascending
    minutes: IntArray
    school_count: int

    @classmethod
    def empty(cls, school_count: int) -> TravelTable:
        return cls(np.zeros(0, np.int64), np.zeros(0, np.int64), school_count)

    def lookup(self, child_index: IntArray, school_index: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """Minutes for the pairs, and a mask of which pairs had a given figure."""
        wanted = child_index.astype(np.int64) * self.school_count + school_index
        if self.keys.size == 0:
            return np.zeros(wanted.size, np.int64), np.zeros(wanted.size, bool)
        position = np.searchsorted(self.keys, wanted)
        position = np.minimum(position, self.keys.size - 1)
        found = self.keys[position] == wanted
        return np.where(found, self.minutes[position], 0), found


def estimate_minutes(
    from_lat: FloatArray,
    from_lon: FloatArray,
    to_lat: FloatArray,
    to_lon: FloatArray,
    estimate: TravelEstimate,
) -> IntArray:
    """The contract's travel estimate for arrays of pairs."""
    if from_lat.size == 0:
        return np.zeros(0, np.int64)
    _, _, metres = _WGS84.inv(from_lon, from_lat, to_lon, to_lat)
    return minutes_for_metres(np.asarray(metres), estimate)


def minutes_for_metres(metres: FloatArray, estimate: TravelEstimate) -> IntArray:
    """The estimate's minutes for geodesic distances: ceil(km * circuity / speed * 60), rounded to
    9 decimals first so that float noise never adds a minute. Each step is monotone."""
    minutes = metres / 1000.0 * estimate.circuity / estimate.speed_kmh * 60.0
    return np.ceil(np.round(minutes, 9)).astype(np.int64)


def pair_minutes(
    table: TravelTable,
    child_index: IntArray,
    school_index: IntArray,
    child_coords: FloatArray,
    school_coords: FloatArray,
    estimate: TravelEstimate,
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Minutes for each pair: the given figure where listed, else the estimate.

    Coordinates are (n, 2) arrays of (lat, lon). Returns minutes and the `given` mask.
    """
    minutes, given = table.lookup(child_index, school_index)
    missing = np.flatnonzero(~given)
    # in slices, so that the gathered coordinates and pyproj's working arrays stay a few tens
    # of MB when a national round prices millions of pairs
    for start in range(0, missing.size, GEODESIC_SLICE):
        part = missing[start : start + GEODESIC_SLICE]
        children = child_index[part]
        schools = school_index[part]
        minutes[part] = estimate_minutes(
            child_coords[children, 0],
            child_coords[children, 1],
            school_coords[schools, 0],
            school_coords[schools, 1],
            estimate,
        )
    return minutes, given


def read_travel_times(
    source: bytes,
    child_ids: list[str],
    school_ids: list[str],
    problems: list[Problem],
    children: Ids | None = None,
    schools: Ids | None = None,
) -> TravelTable:
    """Read travel_times.csv (millions of rows; the file's bytes) with pandas, checking every
    row vectorised.

    `children` and `schools` say which ids are unknown (default: any not in the lists)."""
    import pandas as pd

    name = TRAVEL_FILE
    try:
        with warnings.catch_warnings():
            # pandas warns of a column of mixed types in a large file: the checks below decide.
            warnings.simplefilter("ignore")
            frame = pd.read_csv(
                io.BytesIO(source),
                dtype={"child_id": "category", "school_id": "category"},
                encoding="utf-8-sig",
                keep_default_na=False,
                skip_blank_lines=True,
                engine="c",
            )
    except pd.errors.EmptyDataError:
        problems.append(Problem(name, 0, "-", "file is empty (no header row)"))
        return TravelTable.empty(len(school_ids))
    except UnicodeDecodeError as error:
        problems.append(Problem(name, 0, "-", f"not UTF-8 text ({error.reason})"))
        return TravelTable.empty(len(school_ids))
    except (pd.errors.ParserError, ValueError) as error:
        problems.append(_unreadable(name, source, error))
        return TravelTable.empty(len(school_ids))
    header_line, header, lines = _record_lines(source, len(frame))
    check_header(name, header_line, header, problems, empty_allowed=True)
    if not isinstance(frame.index, pd.RangeIndex):
        # pandas takes the first columns as an index when the first row is longer than the header
        fields = len(frame.columns) + frame.index.nlevels
        message = f"row has {fields} fields but the header has {len(frame.columns)}"
        problems.append(Problem(name, int(lines[0]) if lines.size else header_line + 1, "-", message))
        return TravelTable.empty(len(school_ids))
    raw_minutes = _minutes_as_text(source, frame)
    return travel_table_from_frame(
        frame, name, child_ids, school_ids, problems, lines, children, schools, header_line, raw_minutes
    )


# Bytes that cannot hold or hide a refused character: printable ASCII but the quote, and line ends.
_PLAIN = bytes(range(0x20, 0x7F)).replace(b'"', b"") + b"\n\r"


def _minutes_as_text(source: bytes, frame: pd.DataFrame) -> pd.Series[str] | None:
    """The minutes cells as written, when pandas read them as numbers and either some number is a
    problem (to be shown as written: `1e20`, not 1e+20) or the file might hide a refused character
    in a cell (pandas reads `"7\t"` as 7): read again as text, that column only. None when it need
    not be: the usual file, printable ASCII with nothing quoted and every figure right."""
    import pandas as pd

    labels = [column for column in frame.columns if str(column).strip() == "minutes"]
    if len(labels) != 1 or not pd.api.types.is_numeric_dtype(frame[labels[0]].dtype):
        return None
    with np.errstate(all="ignore"):
        values = frame[labels[0]].to_numpy(dtype=np.float64)
        right = np.isfinite(values) & (np.floor(values) == values) & (values >= 0) & (values <= MAX_GIVEN_MINUTES)
    if right.all() and source.isascii() and not source.translate(None, _PLAIN):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = pd.read_csv(
            io.BytesIO(source),
            usecols=labels,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=False,
            skip_blank_lines=True,
            engine="c",
        )
    return text[labels[0]] if len(text) == len(frame) else None


def _unreadable(name: str, source: bytes, error: Exception) -> Problem:
    """The problem of a file pandas cannot tokenise: a row of the wrong length where it is (found
    again by the csv module, which knows each record's line), else pandas' message on one line."""
    text = source.decode("utf-8-sig", errors="replace")
    try:
        records = [(line, cells) for line, cells in csv_records(text) if not _blank(cells)]
    except CsvError as csv_error:
        return Problem(name, csv_error.line, "-", csv_error.message)
    for line, cells in records[1:]:
        if len(cells) != len(records[0][1]):
            return Problem(name, line, "-", f"row has {len(cells)} fields but the header has {len(records[0][1])}")
    return Problem(name, 0, "-", f"cannot be read as CSV: {shown_message(str(error))}")


def _blank(cells: list[str]) -> bool:
    """A line pandas skips as blank: nothing, or only spaces and tabs and no delimiter."""
    return not cells or (len(cells) == 1 and not cells[0].strip(" \t"))


def _record_lines(source: bytes, count: int) -> tuple[int, list[str], IntArray]:
    """The header's line and cells, and the line of each of the frame's `count` rows.

    A file with one row per line (no blank line, no line break inside quotes: the usual case,
    told apart by counting line ends) has the header on line 1 and row i on line i + 2;
    otherwise the lines are found by reading the file again with the csv module."""
    ends = source.count(b"\n")
    if b"\r" in source:  # old Mac line ends count too, Windows ones once
        ends += source.count(b"\r") - source.count(b"\r\n")
    physical = ends + (1 if source and not source.endswith((b"\n", b"\r")) else 0)
    if physical == count + 1:
        first_end = min(end for end in (source.find(b"\n"), source.find(b"\r", 0, 100_000), len(source)) if end >= 0)
        first_line = source[:first_end].decode("utf-8-sig", errors="replace")
        header = next(iter(csv_records(first_line)), (1, []))[1]
        return 1, header, np.arange(count, dtype=np.int64) + 2
    text = source.decode("utf-8-sig", errors="replace")
    try:
        records = [(line, cells) for line, cells in csv_records(text) if not _blank(cells)]
    except CsvError:
        records = []
    if len(records) != count + 1:  # read differently from pandas: the best guess
        header_line, header = records[0] if records else (1, [])
        return header_line, header, np.arange(count, dtype=np.int64) + header_line + 1
    return records[0][0], records[0][1], np.array([line for line, _ in records[1:]], dtype=np.int64)


def travel_table_from_frame(
    frame: pd.DataFrame,
    name: str,
    child_ids: list[str],
    school_ids: list[str],
    problems: list[Problem],
    lines: IntArray,
    children: Ids | None = None,
    schools: Ids | None = None,
    header_line: int = 1,
    raw_minutes: pd.Series[str] | None = None,
) -> TravelTable:
    """Check and index a travel frame; `lines[i]` is the line (or sheet row) of row i;
    `raw_minutes` the minutes cells as written when the frame holds them as numbers.

    Minutes must be whole numbers from 0 to MAX_GIVEN_MINUTES (finite: `inf`, `nan` and `1e20`
    are problems); ids must hold no refused character. Each kind of problem lists its first
    MAX_LISTED rows and counts the rest."""
    import pandas as pd

    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [c for c in ("child_id", "school_id", "minutes") if c not in frame.columns]
    for absent in missing:
        problems.append(Problem(name, header_line, absent, "required column is missing"))
    if missing:
        return TravelTable.empty(len(school_ids))
    child_index = _codes(frame["child_id"], child_ids)
    school_index = _codes(frame["school_id"], school_ids)
    minutes_cells: pd.Series = frame["minutes"]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # overflow to inf is checked below
        if raw_minutes is not None:  # read as numbers; the cells as written say what they hold
            minutes_cells = raw_minutes
            minutes_text = raw_minutes.astype("string").str.strip()
            minutes = pd.to_numeric(minutes_text, errors="coerce")
            refused_minutes = _refused_cells(raw_minutes.astype("string"))
        elif pd.api.types.is_integer_dtype(minutes_cells.dtype):
            # Fast path: the parser already read every cell as a whole number.
            minutes_text = minutes_cells
            minutes = minutes_cells
            refused_minutes = np.zeros(len(frame), bool)
        else:
            raw_text = minutes_cells.astype("string")
            minutes_text = raw_text.str.strip()
            minutes = pd.to_numeric(minutes_text, errors="coerce")
            refused_minutes = _refused_cells(raw_text)
        values = minutes.to_numpy(dtype=np.float64, na_value=np.nan)
    refused_child = _refused(frame["child_id"])
    refused_school = _refused(frame["school_id"])
    bad_child = _unknown(frame["child_id"], children or Ids(set(child_ids), set(child_ids))) & ~refused_child
    bad_school = _unknown(frame["school_id"], schools or Ids(set(school_ids), set(school_ids))) & ~refused_school
    finite = np.isfinite(values)
    not_number = ~finite & ~refused_minutes
    fractional = finite & (np.floor(values) != values)
    negative = finite & (values < 0)
    too_large = finite & (values > MAX_GIVEN_MINUTES)
    _report(problems, name, "child_id", lines, refused_child, frame["child_id"], _refused_message)
    _report(problems, name, "school_id", lines, refused_school, frame["school_id"], _refused_message)
    _report(problems, name, "minutes", lines, refused_minutes, minutes_cells, _refused_message)
    _report(problems, name, "child_id", lines, bad_child, frame["child_id"], _says("unknown child '{}'"))
    _report(problems, name, "school_id", lines, bad_school, frame["school_id"], _says("unknown school '{}'"))
    _report(problems, name, "minutes", lines, not_number, minutes_text, _says("'{}' is not a whole number"))
    _report(problems, name, "minutes", lines, fractional, minutes_text, _says("'{}' is not a whole number"))
    negative_message = _says("{} is negative; minutes must be 0 or more")
    _report(problems, name, "minutes", lines, negative, minutes_text, negative_message)
    too_many = f"{{}} is above the largest allowed value {MAX_GIVEN_MINUTES} (a week)"
    _report(problems, name, "minutes", lines, too_large, minutes_text, _says(too_many))
    wrong = bad_child | bad_school | refused_child | refused_school | refused_minutes
    usable = ~(wrong | ~finite | fractional | negative | too_large) & (child_index >= 0) & (school_index >= 0)
    keys = child_index[usable] * len(school_ids) + school_index[usable]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    repeated = np.zeros(keys.size, bool)
    repeated[1:] = keys[1:] == keys[:-1]
    if repeated.any():
        usable_lines = lines[usable][order]
        _report(
            problems,
            name,
            "child_id",
            usable_lines,
            repeated,
            pd.Series(["pair"] * keys.size),
            lambda _: "this child and school are listed more than once",
        )
    return TravelTable(keys, values[usable][order].astype(np.int64), len(school_ids))


def _refused(column: pd.Series) -> BoolArray:
    """Cells holding a refused character, decided once per distinct id."""
    categorical = column.astype("category")
    refused = np.array([first_refused_character(str(c)) is not None for c in categorical.cat.categories], dtype=bool)
    codes = categorical.cat.codes.to_numpy()
    return np.where(codes >= 0, refused[np.maximum(codes, 0)], False) if refused.size else np.zeros(codes.size, bool)


def _refused_cells(text: pd.Series[str]) -> BoolArray:
    """Cells of a number column holding a refused character. A number parses only when such a
    character is at an end (whitespace that `strip` removes), so only cells with more than
    spaces around them are looked at one by one."""
    filled = text.fillna("")
    suspect = (filled.str.strip(" ") != filled.str.strip()).to_numpy(dtype=bool)
    refused = np.zeros(len(text), bool)
    for position in np.flatnonzero(suspect):
        refused[position] = first_refused_character(str(filled.iloc[int(position)])) is not None
    return refused


def _says(template: str) -> Callable[[object], str]:
    """A message naming the cell, escaped and cut (`shown`)."""
    return lambda cell: template.format(shown(cell))


def _refused_message(cell: object) -> str:
    text = str(cell)
    char = first_refused_character(text)
    return refused_character_message(text, char) if char is not None else f"'{shown(text)}' is not printable"


def _unknown(column: pd.Series, ids: Ids) -> BoolArray:
    """Cells naming an unknown id (see Ids), decided once per distinct id."""
    categorical = column.astype("category")
    unknown = np.array([ids.unknown(str(c).strip()) for c in categorical.cat.categories], dtype=bool)
    codes = categorical.cat.codes.to_numpy()
    return np.where(codes >= 0, unknown[np.maximum(codes, 0)], False) if unknown.size else np.zeros(codes.size, bool)


def _codes(column: pd.Series, known: list[str]) -> IntArray:
    """Index of each cell in `known`, -1 where unknown; works on categorical columns fast."""
    import pandas as pd

    categorical = column.astype("category")
    categories = pd.Index([str(c).strip() for c in categorical.cat.categories])
    category_index = pd.Index(known).get_indexer(categories)
    codes = categorical.cat.codes.to_numpy()
    mapped = np.where(codes >= 0, category_index[np.maximum(codes, 0)], -1)
    return mapped.astype(np.int64)


def _report(
    problems: list[Problem],
    name: str,
    column: str,
    lines: IntArray,
    mask: npt.NDArray[np.bool_],
    cells: pd.Series[str],
    message_of: Callable[[object], str],
) -> None:
    """A problem for each of the first MAX_LISTED rows in `mask` (`message_of` the cell), and one
    more line counting the rest."""
    import pandas as pd

    positions = np.flatnonzero(mask)
    for position in positions[:MAX_LISTED]:
        cell = cells.iloc[int(position)]
        message = message_of("" if pd.isna(cell) else cell)
        problems.append(Problem(name, int(lines[position]), column, message))
    if positions.size > MAX_LISTED:
        rest = positions.size - MAX_LISTED
        problems.append(
            Problem(
                name,
                int(lines[positions[MAX_LISTED]]),
                column,
                f"and {rest} more rows with the same problem (first {MAX_LISTED} listed)",
            )
        )
