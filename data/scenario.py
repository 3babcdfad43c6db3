"""What-if scenario files (TOML; an addition to the contract, documented in the README, Estates).

Every key is optional; a scenario edits a copy of the case:

    open_sites = 2                          # number of candidate sites the run may open
    close_schools = ["S3"]                  # the school takes no child; its locks are released
    open_candidates = ["N1"]                # these candidate sites are opened for certain
    [max_travel_minutes]                    # change one or both phase limits
    primary = 50
    [[add_places]]                          # repeatable
    school_id = "S1"
    need = "ASD"
    places = 2
    [[remove_places]]                       # repeatable; at most the places the school has
    school_id = "S2"
    need = "SEMH"
    places = 1
    [demand_growth_percent]                 # extra synthetic children per need
    ASD = 10

Problems are reported as `SCENARIO.toml:line: key: message` (`line` 0 when the key cannot be
located); `parse_scenario` returns only a scenario that is valid against the case.
"""

import re
from collections import Counter
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError

from data.rows import friendly_message
from data.tables import column_label
from data.toml_text import MAX_TOML_BYTES, read_toml
from models.case import (
    MAX_LIMIT_MINUTES,
    MAX_OPEN_SITES,
    MAX_PLACES,
    Case,
    Identifier,
    SchoolKind,
    shown,
)
from models.need import Need
from models.problems import CaseInvalid, Problem

MAX_GROWTH_PERCENT = 1_000  # at most ten times as many children of a need

Places = Annotated[int, Strict(), Field(ge=0, le=MAX_PLACES)]
Sites = Annotated[int, Strict(), Field(ge=0, le=MAX_OPEN_SITES)]
Minutes = Annotated[int, Strict(), Field(ge=0, le=MAX_LIMIT_MINUTES)]
Percent = Annotated[float, Field(ge=0, le=MAX_GROWTH_PERCENT, allow_inf_nan=False)]
SchoolId = Annotated[Identifier, Strict()]
Location = tuple[str | int, ...]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlaceChange(_Frozen):
    school_id: SchoolId
    need: Need
    places: Places


class TravelLimitChange(_Frozen):
    primary: Minutes | None = None
    secondary: Minutes | None = None


class Scenario(_Frozen):
    """A validated scenario; see the module docstring for the meaning of each key."""

    open_sites: Sites | None = None
    close_schools: tuple[SchoolId, ...] = ()
    open_candidates: tuple[SchoolId, ...] = ()
    max_travel_minutes: TravelLimitChange = TravelLimitChange()
    add_places: tuple[PlaceChange, ...] = ()
    remove_places: tuple[PlaceChange, ...] = ()
    demand_growth_percent: dict[Need, Percent] = Field(default_factory=dict)


def read_scenario_text(path: Path) -> str:
    """The scenario file's text (UTF-8, optional byte-order mark, line endings read as `\\n`: the
    text what-if runs hash, as they always have); CaseInvalid when it cannot be read."""
    name = path.name
    try:
        size = path.stat().st_size
        if size > MAX_TOML_BYTES:  # refused before it is read
            raise CaseInvalid(
                [Problem(name, 0, "-", f"file is {size:,} bytes; at most {MAX_TOML_BYTES:,} (1 MB) are read")]
            )
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CaseInvalid([Problem(name, 0, "-", "scenario file does not exist")]) from None
    except UnicodeDecodeError as error:
        raise CaseInvalid([Problem(name, 0, "-", f"not UTF-8 text ({error.reason})")]) from None
    except OSError as error:
        raise CaseInvalid([Problem(name, 0, "-", f"cannot be read ({error.strerror})")]) from None


def parse_scenario(text: str, case: Case, name: str) -> Scenario:
    """Check scenario text against the case; problems are located in file `name`."""
    problems: list[Problem] = []
    raw = read_toml(text, name, problems)
    if raw is None:
        raise CaseInvalid(problems)
    lines = _key_lines(text)
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(part for part in detail["loc"] if part != "[key]")
            problems.append(_problem(name, lines, loc, _message(detail)))
        # Unknown schools are reported in the same run, from the raw values that can be read.
        flagged = {problem.column for problem in problems}
        for loc, school_id in _raw_school_references(raw):
            if school_id not in case.school_by_id() and _key_name(loc) not in flagged:
                problems.append(_problem(name, lines, loc, f"unknown school '{shown(school_id)}'"))
        raise CaseInvalid(problems) from None
    _check_against_case(scenario, case, name, lines, problems)
    if problems:
        raise CaseInvalid(problems)
    return scenario


def _check_against_case(
    scenario: Scenario, case: Case, name: str, lines: dict[Location, int], problems: list[Problem]
) -> None:
    schools = case.school_by_id()

    def problem(loc: Location, message: str) -> None:
        problems.append(_problem(name, lines, loc, message))

    for key in ("close_schools", "open_candidates"):
        for index, school_id in enumerate(getattr(scenario, key)):
            if school_id not in schools:
                problem((key, index), f"unknown school '{school_id}'")
            elif key == "open_candidates" and schools[school_id].kind != SchoolKind.CANDIDATE:
                problem((key, index), f"'{school_id}' is not a candidate site")
    offered = {(offer.school_id, offer.need): offer.places for offer in case.places}
    removed: Counter[tuple[str, Need]] = Counter()
    added: Counter[tuple[str, Need]] = Counter()
    for key in ("add_places", "remove_places"):
        for index, change in enumerate(getattr(scenario, key)):
            if change.school_id not in schools:
                problem((key, index, "school_id"), f"unknown school '{change.school_id}'")
                continue
            if key == "add_places":
                pair = (change.school_id, change.need)
                added[pair] += change.places
                if offered.get(pair, 0) + added[pair] > MAX_PLACES:
                    problem(
                        (key, index, "places"),
                        f"'{change.school_id}' would have {offered.get(pair, 0) + added[pair]:,} "
                        f"{change.need.value} places; at most {MAX_PLACES:,}",
                    )
            if key == "remove_places":
                pair = (change.school_id, change.need)
                removed[pair] += change.places
                if removed[pair] > offered.get(pair, 0):
                    problem(
                        (key, index, "places"),
                        f"'{change.school_id}' has {offered.get(pair, 0)} {change.need.value} place(s); "
                        f"cannot remove {removed[pair]}",
                    )


def _raw_school_references(raw: dict[str, object]) -> list[tuple[Location, str]]:
    """(location, school id) of every school named in a scenario that did not validate."""
    found: list[tuple[Location, str]] = []
    for key in ("close_schools", "open_candidates"):
        values = raw.get(key)
        if isinstance(values, list):
            found += [((key, index), value) for index, value in enumerate(values) if isinstance(value, str)]
    for key in ("add_places", "remove_places"):
        entries = raw.get(key)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict) and isinstance(entry.get("school_id"), str):
                    found.append(((key, index, "school_id"), entry["school_id"]))
    return found


def _message(detail: object) -> str:
    assert isinstance(detail, dict)
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{_brief(detail.get('input'))} must be a whole number"
    if kind in ("float_type", "float_parsing"):
        return f"{_brief(detail.get('input'))} must be a number"
    if kind in ("string_type",):
        return f"{_brief(detail.get('input'))} must be text in quotes"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "must be a table of keys"
    if kind in ("tuple_type", "list_type"):
        return "must be a list"
    return friendly_message(detail)


def _brief(value: object) -> str:
    """A TOML value as Python writes it (`'ten'`, `4.5`), cut to one short line."""
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _problem(name: str, lines: dict[Location, int], loc: Location, message: str) -> Problem:
    """A problem at the key `loc`; a key that cannot be a column label is named in the message."""
    key = _key_name(loc)
    label = column_label(key)
    return Problem(
        name, _line_of(lines, loc), label, message if label != "-" or key == "-" else f"{message} (key '{shown(key)}')"
    )


def _key_name(loc: Location) -> str:
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or "-"


def _line_of(lines: dict[Location, int], loc: Location) -> int:
    """The line of the longest located prefix of `loc`; 0 when none is known."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 0


def _key_lines(text: str) -> dict[Location, int]:
    """Line of each `key = value` and table header, by key path (tomllib keeps no positions).

    Array-of-tables entries are numbered from 0 in order of appearance; an array value's
    items are located at the line of its key.
    """
    lines: dict[Location, int] = {}
    table: Location = ()
    arrays: Counter[str] = Counter()
    for number, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        array_header = re.match(r"^\[\[\s*([^\]]+?)\s*\]\]", stripped)
        header = re.match(r"^\[\s*([^\]]+?)\s*\]", stripped)
        if array_header:
            key = array_header.group(1)
            table = (key, arrays[key])
            arrays[key] += 1
            lines.setdefault(table, number)
            lines.setdefault((key,), number)
        elif header:
            table = (header.group(1),)
            lines.setdefault(table, number)
        else:
            assignment = re.match(r'^("?)([A-Za-z0-9_\-]+)\1\s*=', stripped)
            if assignment:
                lines.setdefault((*table, assignment.group(2)), number)
    return lines
