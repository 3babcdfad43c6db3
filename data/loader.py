"""Load a case folder (CONTRACT.md) into validated models, collecting every problem first.

Nothing is returned unless the whole case is valid: `load_case` raises `CaseInvalid` with
every problem found in every file, each as `file:line: column: message`.

A folder and a mapping of file name -> bytes (`load_case_files`, for uploads) are read by
one path: the folder's files are read as bytes, then both go through `case_tables`.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from data.policy import POLICY_FILE, parse_policy
from data.rows import Ids, ModelT, require_columns, typed_rows, unknown_references_in_failed_rows
from data.tables import RawTable, parse_csv_text
from data.travel import TRAVEL_FILE, TravelTable, read_travel_times
from models.case import Case, Child, PlaceOffer, Policy, Preference, School, SchoolKind
from models.problems import CaseInvalid, Problem

SCHOOLS_FILE = "schools.csv"
PLACES_FILE = "places.csv"
CHILDREN_FILE = "children.csv"
PREFERENCES_FILE = "preferences.csv"
REQUIRED_FILES = (SCHOOLS_FILE, PLACES_FILE, CHILDREN_FILE)
OPTIONAL_FILES = (PREFERENCES_FILE, TRAVEL_FILE, POLICY_FILE)
CASE_FILES = REQUIRED_FILES + OPTIONAL_FILES

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


def load_case(case_dir: Path) -> LoadedCase:
    """Read and check a case folder; raise CaseInvalid listing every problem."""
    problems: list[Problem] = []
    if not case_dir.is_dir():
        raise CaseInvalid([Problem(str(case_dir), 0, "-", "case folder does not exist")])
    tables = read_case_folder(case_dir, problems)
    return build_case(tables, problems)


def load_case_files(files: Mapping[str, bytes]) -> LoadedCase:
    """Check a case given as its files' bytes, keyed by file name (`schools.csv`, ...), exactly
    as `load_case` checks a folder holding those files; names that are not case files are ignored."""
    problems: list[Problem] = []
    return build_case(case_tables(files, problems), problems)


def read_case_folder(case_dir: Path, problems: list[Problem]) -> CaseTables:
    files, unreadable = read_folder_files(case_dir, problems)
    return case_tables(files, problems, unreadable)


def read_folder_files(case_dir: Path, problems: list[Problem]) -> tuple[dict[str, bytes], set[str]]:
    """The bytes of each case file present in the folder, and the names of those that exist but
    cannot be read (each already a problem)."""
    files: dict[str, bytes] = {}
    unreadable: set[str] = set()
    for name in CASE_FILES:
        path = case_dir / name
        if not path.exists():
            continue
        try:
            files[name] = path.read_bytes()
        except OSError as error:
            problems.append(Problem(name, 0, "-", f"cannot be read ({error.strerror})"))
            unreadable.add(name)
    return files, unreadable


def decode_text(name: str, content: bytes, problems: list[Problem]) -> str | None:
    """A case file's text (UTF-8, optional byte-order mark), or None with a problem."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        problems.append(Problem(name, 0, "-", f"not UTF-8 text ({error.reason})"))
        return None


def case_tables(files: Mapping[str, bytes], problems: list[Problem], unreadable: Iterable[str] = ()) -> CaseTables:
    """The raw tables of a case from its files' bytes (the one reading path of folders and uploads).
    `unreadable` names files that exist but could not be read: not reported again as missing."""
    present = set(files) | set(unreadable)

    def read(name: str, required: bool) -> RawTable | None:
        if name not in files:
            if required and name not in present:
                problems.append(Problem(name, 0, "-", "required file is missing"))
            return None
        text = decode_text(name, files[name], problems)
        return None if text is None else parse_csv_text(name, text, problems)

    def read_travel(
        child_ids: list[str], school_ids: list[str], found: list[Problem], children: Ids, schools: Ids
    ) -> TravelTable:
        if TRAVEL_FILE not in files:
            return TravelTable.empty(len(school_ids))
        return read_travel_times(files[TRAVEL_FILE], child_ids, school_ids, found, children, schools)

    policy_text = decode_text(POLICY_FILE, files[POLICY_FILE], problems) if POLICY_FILE in files else None
    return CaseTables(
        schools=read(SCHOOLS_FILE, True),
        places=read(PLACES_FILE, True),
        children=read(CHILDREN_FILE, True),
        preferences=read(PREFERENCES_FILE, False),
        policy=Policy() if policy_text is None else parse_policy(policy_text, problems, POLICY_FILE),
        read_travel=read_travel,
        input_sha256=hash_case_files(files),
    )


def hash_case_files(files: Mapping[str, bytes]) -> str:
    """sha256 over the contract files present, in contract order: name, NUL, bytes, NUL."""
    digest = hashlib.sha256()
    for name in CASE_FILES:
        if name in files:
            digest.update(name.encode() + b"\0")
            digest.update(files[name])
            digest.update(b"\0")
    return digest.hexdigest()


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
    places = _places(tables.places, school_ids, problems)
    children = _children(tables.children, school_ids, problems)
    child_ids = [child.child_id for _, child in children]
    child_idset = Ids(set(child_ids), _declared(tables.children, "child_id") if children_ok else None)
    preferences = _preferences(tables.preferences, child_idset, school_ids, problems)
    if schools_ok and places_ok:
        _check_locks(tables.children, children, school_by_id, school_ids, places, problems)
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
    if not table.rows:
        problems.append(Problem(table.name, 0, "-", "file has no rows"))
    return kept


def _places(table: RawTable | None, schools: Ids, problems: list[Problem]) -> list[tuple[int, PlaceOffer]]:
    if table is None or not require_columns(table, PLACE_COLUMNS, problems):
        return []
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
    return offers


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
    for line, preference in typed_rows(table, Preference, PREFERENCE_COLUMNS, PREFERENCE_COLUMNS, problems, failed):
        ok = preference.child_id in children.valid and preference.school_id in schools.valid
        if children.unknown(preference.child_id):
            problems.append(Problem(table.name, line, "child_id", f"unknown child '{preference.child_id}'"))
        if schools.unknown(preference.school_id):
            problems.append(Problem(table.name, line, "school_id", f"unknown school '{preference.school_id}'"))
        pair = (preference.child_id, preference.school_id)
        if pair in seen_school:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "school_id",
                    f"this family already ranked '{preference.school_id}' on line {seen_school[pair]}",
                )
            )
            ok = False
        rank_key = (preference.child_id, preference.rank)
        if rank_key in seen_rank:
            problems.append(
                Problem(
                    table.name,
                    line,
                    "rank",
                    f"rank {preference.rank} is already used for this child on line {seen_rank[rank_key]}",
                )
            )
            ok = False
        seen_school.setdefault(pair, line)
        seen_rank.setdefault(rank_key, line)
        if ok:
            kept.append((line, preference))
    references = {"child_id": ("child", children), "school_id": ("school", schools)}
    unknown_references_in_failed_rows(table, failed, references, problems)
    return kept


def _check_locks(
    table: RawTable | None,
    children: list[tuple[int, Child]],
    school_by_id: dict[str, School],
    school_ids: Ids,
    places: list[tuple[int, PlaceOffer]],
    problems: list[Problem],
) -> None:
    """A lock must name a known school with a place of the child's need, at the child's age,
    and a school's locks for a need may not exceed its places."""
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
