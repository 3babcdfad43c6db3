"""Travel minutes: given figures from travel_times.csv, the contract's estimate for the rest.

Estimated minutes = ceil(geodesic_km * circuity / speed_kmh * 60), the geodesic on the WGS 84
ellipsoid, computed vectorised with pyproj (Karney's algorithm, as geographiclib and geopy).
"""

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod

from data.arrays import BoolArray, FloatArray, IntArray
from data.rows import Ids
from models.case import TravelEstimate
from models.problems import Problem

TRAVEL_FILE = "travel_times.csv"
MAX_LISTED = 50  # rows listed per kind of problem in one file; the rest are counted
_WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True)
class TravelTable:
    """Given door-to-door minutes for (child index, school index) pairs, sorted by key."""

    keys: IntArray  # child_index * school_count + school_index, ascending
    minutes: IntArray
    school_count: int

    @classmethod
    def empty(cls, school_count: int) -> "TravelTable":
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
    minutes = np.asarray(metres) / 1000.0 * estimate.circuity / estimate.speed_kmh * 60.0
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
    missing = ~given
    if missing.any():
        children = child_index[missing]
        schools = school_index[missing]
        minutes[missing] = estimate_minutes(
            child_coords[children, 0],
            child_coords[children, 1],
            school_coords[schools, 0],
            school_coords[schools, 1],
            estimate,
        )
    return minutes, given


def read_travel_times(
    source: Path | bytes,
    child_ids: list[str],
    school_ids: list[str],
    problems: list[Problem],
    children: Ids | None = None,
    schools: Ids | None = None,
) -> TravelTable:
    """Read travel_times.csv (millions of rows; a path or the file's bytes) with pandas,
    checking every row vectorised.

    `children` and `schools` say which ids are unknown (default: any not in the lists)."""
    name = source.name if isinstance(source, Path) else TRAVEL_FILE
    try:
        frame = pd.read_csv(
            source if isinstance(source, Path) else io.BytesIO(source),
            dtype={"child_id": "category", "school_id": "category"},
            encoding="utf-8-sig",
            keep_default_na=False,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        problems.append(Problem(name, 0, "-", "file is empty (no header row)"))
        return TravelTable.empty(len(school_ids))
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        problems.append(Problem(name, 0, "-", f"cannot be read as CSV: {error}"))
        return TravelTable.empty(len(school_ids))
    return travel_table_from_frame(frame, name, child_ids, school_ids, problems, children=children, schools=schools)


def travel_table_from_frame(
    frame: pd.DataFrame,
    name: str,
    child_ids: list[str],
    school_ids: list[str],
    problems: list[Problem],
    first_line: int = 2,
    children: Ids | None = None,
    schools: Ids | None = None,
) -> TravelTable:
    """Check and index a travel frame; rows are numbered from `first_line`."""
    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [c for c in ("child_id", "school_id", "minutes") if c not in frame.columns]
    for absent in missing:
        problems.append(Problem(name, 1, absent, "required column is missing"))
    if missing:
        return TravelTable.empty(len(school_ids))
    lines = np.arange(len(frame), dtype=np.int64) + first_line
    child_index = _codes(frame["child_id"], child_ids)
    school_index = _codes(frame["school_id"], school_ids)
    minutes_cells: pd.Series = frame["minutes"]
    if pd.api.types.is_integer_dtype(minutes_cells.dtype):
        # Fast path: the parser already read every cell as a whole number.
        minutes_text = minutes_cells
        minutes = minutes_cells
    else:
        minutes_text = minutes_cells.astype("string").str.strip()
        minutes = pd.to_numeric(minutes_text, errors="coerce")
    bad_child = _unknown(frame["child_id"], children or Ids(set(child_ids), set(child_ids)))
    bad_school = _unknown(frame["school_id"], schools or Ids(set(school_ids), set(school_ids)))
    not_number = minutes.isna().to_numpy()
    values = minutes.to_numpy(dtype=np.float64, na_value=np.nan)
    fractional = ~not_number & (np.floor(values) != values)
    negative = ~not_number & (values < 0)
    _report(problems, name, "child_id", lines, bad_child, frame["child_id"], "unknown child '{}'")
    _report(problems, name, "school_id", lines, bad_school, frame["school_id"], "unknown school '{}'")
    _report(problems, name, "minutes", lines, not_number, minutes_text, "'{}' is not a whole number")
    _report(problems, name, "minutes", lines, fractional, minutes_text, "'{}' is not a whole number")
    _report(problems, name, "minutes", lines, negative, minutes_text, "{} is negative; minutes must be 0 or more")
    usable = ~(bad_child | bad_school | not_number | fractional | negative) & (child_index >= 0) & (school_index >= 0)
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
            "this child and school are listed more than once",
        )
    return TravelTable(keys, values[usable][order].astype(np.int64), len(school_ids))


def _unknown(column: pd.Series, ids: Ids) -> BoolArray:
    """Cells naming an unknown id (see Ids), decided once per distinct id."""
    categorical = column.astype("category")
    unknown = np.array([ids.unknown(str(c).strip()) for c in categorical.cat.categories], dtype=bool)
    codes = categorical.cat.codes.to_numpy()
    return np.where(codes >= 0, unknown[np.maximum(codes, 0)], False) if unknown.size else np.zeros(codes.size, bool)


def _codes(column: pd.Series, known: list[str]) -> IntArray:
    """Index of each cell in `known`, -1 where unknown; works on categorical columns fast."""
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
    cells: "pd.Series[str]",
    template: str,
) -> None:
    positions = np.flatnonzero(mask)
    for position in positions[:MAX_LISTED]:
        cell = cells.iloc[int(position)]
        message = template.format("" if pd.isna(cell) else cell)
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
