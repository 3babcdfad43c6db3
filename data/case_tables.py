"""The parts of a case that a folder and a workbook share: file and column names, the raw
tables read from either, and `build_case`, which types every table, checks cross-references
and collects every problem before returning the validated case.

`data.loader` (folders) and `data.workbook` (workbooks) both build on this module, and
`data.loader.load_case` chooses between them.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from operator import itemgetter

from data.policy import POLICY_FILE
from data.rows import Ids, ModelT, require_columns, typed_rows, unknown_references_in_failed_rows
from data.tables import RawTable
from data.travel import TRAVEL_FILE, TravelTable
from models.case import Case, Child, PlaceOffer, Policy, Preference, School, SchoolKind
from models.problems import CaseInvalid, Problem

SCHOOLS_FILE = "schools.csv"
PLACES_FILE = "places.csv"
CHILDREN_FILE = "children.csv"
PREFERENCES_FILE = "preferences.csv"
REQUIRED_FILES = (SCHOOLS_FILE, PLACES_FILE, CHILDREN_FILE)
OPTIONAL_FILES = (PREFERENCES_FILE, TRAVEL_FILE, POLICY_FILE)
CASE_FILES = REQUIRED_FILES + OPTIONAL_FILES
WORKBOOK_SUFFIX = ".xlsx"
EXPANSIONS_FILE = "expansions.csv"
EXPANSIONS_SHEET = "expansions"
EXPANSION_COLUMNS = ("school_id", "need", "max_extra")

SCHOOL_COLUMNS = ("school_id", "name", "lat", "lon", "age_min", "age_max", "kind", "annual_place_cost_gbp", "district")
SCHOOL_REQUIRED = ("school_id", "name", "lat", "lon", "age_min", "age_max")
PLACE_COLUMNS = ("school_id", "need", "places")
CHILD_COLUMNS = ("child_id", "need", "age", "lat", "lon", "priority", "district", "locked_school_id", "ward")
CHILD_REQUIRED = ("child_id", "need", "age", "lat", "lon")
PREFERENCE_COLUMNS = ("child_id", "school_id", "rank")


@dataclass(frozen=True)
class LoadedCase:
    """A valid case with its given travel figures and the hash of its input files."""

    case: Case
    travel: TravelTable
    input_sha256: str


@dataclass
class CaseTables:
    """The raw tables of a case, from a folder or a workbook."""

    schools: RawTable | None
    places: RawTable | None
    children: RawTable | None
    preferences: RawTable | None
    policy: Policy
    read_travel: Callable[[list[str], list[str], list[Problem], Ids, Ids], TravelTable]
    input_sha256: str


def build_case(tables: CaseTables, problems: list[Problem]) -> LoadedCase:
    """Type every table, check cross-references, then raise or return the case."""
    # References into a file that is missing, headless or empty are not checked: its own
    # problem is reported, and listing every reference to it as "unknown" would bury it.
    schools_ok = _usable(tables.schools, SCHOOL_REQUIRED)
    children_ok = _usable(tables.children, CHILD_REQUIRED)
    places_ok = tables.places is not None and all(c in tables.places.header for c in PLACE_COLUMNS)
    schools = _schools(tables.schools, problems)
    school_by_id = {school.school_id: school for school in schools}
    school_ids = Ids(set(school_by_id), _declared(tables.schools, "school_id") if schools_ok else None)
    places, untyped_places = _places(tables.places, school_ids, problems)
    children = _children(tables.children, school_ids, problems)
    child_ids = [child.child_id for _, child in children]
    child_idset = Ids(set(child_ids), _declared(tables.children, "child_id") if children_ok else None)
    preferences = _preferences(tables.preferences, child_idset, school_ids, problems)
    if schools_ok and places_ok:
        _check_locks(tables.children, children, school_by_id, school_ids, places, untyped_places, problems)
        _check_locked_sites(tables.children, children, school_by_id, tables.policy, problems)
    travel = tables.read_travel(child_ids, list(school_by_id), problems, child_idset, school_ids)
    if problems:
        raise CaseInvalid(problems)
    case = Case(
        schools=tuple(schools),
        places=tuple(offer for _, offer in places),
        children=tuple(child for _, child in children),
        preferences=tuple(preference for _, preference in preferences),
        policy=tables.policy,
    )
    return LoadedCase(case, travel, tables.input_sha256)


def _usable(table: RawTable | None, required: tuple[str, ...]) -> bool:
    return table is not None and bool(table.rows) and all(column in table.header for column in required)


def _declared(table: RawTable | None, column: str) -> set[str]:
    if table is None or column not in table.header:
        return set()
    index = table.header.index(column)
    return {row[index] for row in table.rows if row[index]}


def _schools(table: RawTable | None, problems: list[Problem]) -> list[School]:
    if table is None or not require_columns(table, SCHOOL_REQUIRED, problems):
        return []
    rows = typed_rows(table, School, SCHOOL_COLUMNS, SCHOOL_REQUIRED, problems)
    return [school for _, school in _unique_ids(table, rows, "school_id", problems)]


def _unique_ids(
    table: RawTable, rows: Iterable[tuple[int, ModelT]], column: str, problems: list[Problem]
) -> list[tuple[int, ModelT]]:
    """Rows whose id (`column`) is new; a repeat is a problem naming the first line. A file
    with no rows at all is a problem too."""
    rows = list(rows)
    if not table.rows:
        problems.append(Problem(table.name, 0, "-", "file has no rows"))
    identifiers = [str(getattr(row, column)) for _, row in rows]
    if len(set(identifiers)) == len(identifiers):
        return rows  # no repeat: every row is kept
    kept: list[tuple[int, ModelT]] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        identifier = str(getattr(row, column))
        if identifier in first_line:
            problems.append(
                Problem(
                    table.name, line, column, f"duplicate id '{identifier}' (first on line {first_line[identifier]})"
                )
            )
            continue
        first_line[identifier] = line
        kept.append((line, row))
    return kept


def _places(
    table: RawTable | None, schools: Ids, problems: list[Problem]
) -> tuple[list[tuple[int, PlaceOffer]], set[tuple[str, str]]]:
    """The valid place rows, and the (school_id, need) cells of the rows that could not be typed:
    a lock there is not checked against places (the row's own problem says what is wrong)."""
    if table is None or not require_columns(table, PLACE_COLUMNS, problems):
        return [], set()
    offers: list[tuple[int, PlaceOffer]] = []
    first_line: dict[tuple[str, str], int] = {}
    failed: set[int] = set()
    for line, offer in typed_rows(table, PlaceOffer, PLACE_COLUMNS, PLACE_COLUMNS, problems, failed):
        if offer.school_id not in schools.valid:
            if schools.unknown(offer.school_id):
                problems.append(Problem(table.name, line, "school_id", f"unknown school '{offer.school_id}'"))
            continue
        key = (offer.school_id, offer.need.value)
        if key in first_line:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "need",
                    f"places for {offer.need.value} at '{offer.school_id}' are already given on line {first_line[key]}",
                )
            )
            continue
        first_line[key] = line
        offers.append((line, offer))
    unknown_references_in_failed_rows(table, failed, {"school_id": ("school", schools)}, problems)
    index = table.column_index()
    untyped = {
        (row[index["school_id"]], row[index["need"]])
        for line, row in zip(table.lines, table.rows, strict=True)
        if line in failed
    }
    return offers, untyped


def _children(table: RawTable | None, schools: Ids, problems: list[Problem]) -> list[tuple[int, Child]]:
    if table is None or not require_columns(table, CHILD_REQUIRED, problems):
        return []
    failed: set[int] = set()
    rows = typed_rows(table, Child, CHILD_COLUMNS, CHILD_REQUIRED, problems, failed)
    children = _unique_ids(table, rows, "child_id", problems)
    unknown_references_in_failed_rows(table, failed, {"locked_school_id": ("school", schools)}, problems)
    return children


def _preferences(
    table: RawTable | None, children: Ids, schools: Ids, problems: list[Problem]
) -> list[tuple[int, Preference]]:
    if table is None or not require_columns(table, PREFERENCE_COLUMNS, problems):
        return []
    seen_school: dict[tuple[str, str], int] = {}
    seen_rank: dict[tuple[str, int], int] = {}
    kept: list[tuple[int, Preference]] = []
    failed: set[int] = set()
    typed = typed_rows(table, Preference, PREFERENCE_COLUMNS, PREFERENCE_COLUMNS, problems, failed)
    references = {"child_id": ("child", children), "school_id": ("school", schools)}
    if _all_kept(typed, children, schools):
        unknown_references_in_failed_rows(table, failed, references, problems)
        return typed
    for line, preference in typed:
        child_id, school_id, rank = preference.child_id, preference.school_id, preference.rank
        ok = child_id in children.valid and school_id in schools.valid
        if not ok:
            if children.unknown(child_id):
                problems.append(Problem(table.name, line, "child_id", f"unknown child '{child_id}'"))
            if schools.unknown(school_id):
                problems.append(Problem(table.name, line, "school_id", f"unknown school '{school_id}'"))
        # the first line of each (child, school) and (child, rank): a row's own line when it is new
        first_school = seen_school.setdefault((child_id, school_id), line)
        if first_school != line:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "school_id",
                    f"this family already ranked '{school_id}' on line {first_school}",
                )
            )
            ok = False
        first_rank = seen_rank.setdefault((child_id, rank), line)
        if first_rank != line:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "rank",
                    f"rank {rank} is already used for this child on line {first_rank}",
                )
            )
            ok = False
        if ok:
            kept.append((line, preference))
    unknown_references_in_failed_rows(table, failed, references, problems)
    return kept


def _all_kept(typed: list[tuple[int, Preference]], children: Ids, schools: Ids) -> bool:
    """Whether every typed preference is kept with no problem (the usual file), told by whole
    sets: every child and school valid, no (child, school) and no (child, rank) twice."""
    child_ids = [preference.child_id for _, preference in typed]
    pairs = {(child_id, preference.school_id) for child_id, (_, preference) in zip(child_ids, typed, strict=True)}
    ranks = {(child_id, preference.rank) for child_id, (_, preference) in zip(child_ids, typed, strict=True)}
    return (
        len(pairs) == len(typed)
        and len(ranks) == len(typed)
        and children.valid.issuperset(child_ids)
        and schools.valid.issuperset(map(itemgetter(1), pairs))
    )


def _check_locks(
    table: RawTable | None,
    children: list[tuple[int, Child]],
    school_by_id: dict[str, School],
    school_ids: Ids,
    places: list[tuple[int, PlaceOffer]],
    untyped_places: set[tuple[str, str]],
    problems: list[Problem],
) -> None:
    """A lock must name a known school with a place of the child's need, at the child's age,
    and a school's locks for a need may not exceed its places (unless that places row is
    itself a problem)."""
    if table is None:
        return
    offered = {(offer.school_id, offer.need.value): offer.places for _, offer in places}
    locks_at: dict[tuple[str, str], list[int]] = defaultdict(list)
    for line, child in children:
        school_id = child.locked_school_id
        if school_id is None:
            continue
        school = school_by_id.get(school_id)
        if school is None:
            if school_ids.unknown(school_id):
                problems.append(Problem(table.name, line, "locked_school_id", f"unknown school '{school_id}'"))
            continue
        if (school_id, child.need.value) in untyped_places:
            continue
        places_for_need = offered.get((school_id, child.need.value), 0)
        if places_for_need <= 0:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "locked_school_id",
                    f"'{school_id}' has no {child.need.value} places in this round",
                )
            )
            continue
        if not school.takes_age(child.age):
            problems.append(
                Problem(
                    table.name,
                    line,
                    "locked_school_id",
                    f"'{school_id}' takes ages {school.age_min}-{school.age_max}, not {child.age}",
                )
            )
            continue
        locks_at[(school_id, child.need.value)].append(line)
    for (school_id, need), lines in sorted(locks_at.items()):
        capacity = offered[(school_id, need)]
        for line in lines[capacity:]:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "locked_school_id",
                    f"'{school_id}' has {capacity} {need} place(s) but {len(lines)} children are locked there",
                )
            )


def _check_locked_sites(
    table: RawTable | None,
    children: list[tuple[int, Child]],
    school_by_id: dict[str, School],
    policy: Policy,
    problems: list[Problem],
) -> None:
    """A lock at a candidate site opens it; more such sites than open_sites is an error."""
    if table is None:
        return
    sites: dict[str, int] = {}
    for line, child in children:
        school = school_by_id.get(child.locked_school_id or "")
        if school is not None and school.kind == SchoolKind.CANDIDATE:
            sites.setdefault(school.school_id, line)
    if len(sites) > policy.open_sites:
        for line in sorted(sites.values())[policy.open_sites :]:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "locked_school_id",
                    f"locks open {len(sites)} candidate sites but policy.toml allows open_sites = {policy.open_sites}",
                )
            )
