"""Reads the web pages need beyond the /v1 endpoints: cases newest first, a case's runs, and a
run's children filtered and sorted in SQL (server-side paging for big runs)."""

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import ColumnElement, func, select

from api.errors import not_found
from api.services.case_files import load_files
from api.storage.cases import case_files, get_case
from api.storage.database import Database
from api.storage.tables import CaseRecord, PlacementRecord, RunRecord
from data.loader import LoadedCase


def newest_cases(database: Database, limit: int = 200) -> list[CaseRecord]:
    with database.session() as session:
        query = select(CaseRecord).order_by(CaseRecord.created_at.desc(), CaseRecord.case_id).limit(limit)
        return list(session.scalars(query))


def runs_of_case(database: Database, case_id: str) -> list[RunRecord]:
    """The case's runs, newest first."""
    with database.session() as session:
        query = select(RunRecord).where(RunRecord.case_id == case_id)
        return list(session.scalars(query.order_by(RunRecord.created_at.desc(), RunRecord.run_id)))


Outcome = Literal["placed", "first_choice", "not_first_choice", "unplaced"]


@dataclass(frozen=True)
class ChildrenQuery:
    """Filters (None: any) and sort of the run's children table."""

    outcome: Outcome | None = None
    need: str | None = None
    district: str | None = None
    school: str | None = None
    priority: int | None = None
    sort: str = "position"
    descending: bool = False

    def conditions(self, run_id: str) -> list[ColumnElement[bool]]:
        found = [PlacementRecord.run_id == run_id]
        if self.outcome == "unplaced":
            found.append(PlacementRecord.school_id.is_(None))
        elif self.outcome == "placed":
            found.append(PlacementRecord.school_id.is_not(None))
        elif self.outcome == "first_choice":
            found.append(PlacementRecord.preference_rank == 1)
        elif self.outcome == "not_first_choice":
            # Placed somewhere other than the family's first choice, or not placed.
            found.append((PlacementRecord.preference_rank.is_(None)) | (PlacementRecord.preference_rank != 1))
        if self.need is not None:
            found.append(PlacementRecord.need == self.need)
        if self.district is not None:
            found.append(PlacementRecord.district == self.district)
        if self.school is not None:
            found.append(PlacementRecord.school_id == self.school)
        if self.priority is not None:
            found.append(PlacementRecord.priority == self.priority)
        return found


SORT_COLUMNS = {
    "position": PlacementRecord.position,
    "child": PlacementRecord.child_id,
    "need": PlacementRecord.need,
    "district": PlacementRecord.district,
    "priority": PlacementRecord.priority,
    "school": PlacementRecord.school_id,
    "preference": PlacementRecord.preference_rank,
    "travel": PlacementRecord.travel_minutes,
}


def children_page(
    database: Database, run_id: str, query: ChildrenQuery, offset: int, limit: int
) -> tuple[int, list[PlacementRecord]]:
    """(how many match, one page) of the run's placements; ties in children.csv order."""
    column = SORT_COLUMNS.get(query.sort, PlacementRecord.position)
    order = column.desc().nulls_last() if query.descending else column.asc().nulls_last()
    conditions = query.conditions(run_id)
    with database.session() as session:
        total = session.scalar(select(func.count()).select_from(PlacementRecord).where(*conditions)) or 0
        if offset >= total:
            return int(total), []
        rows = session.scalars(
            select(PlacementRecord)
            .where(*conditions)
            .order_by(order, PlacementRecord.position)
            .offset(offset)
            .limit(limit)
        )
        return int(total), list(rows)


@dataclass(frozen=True)
class FilterChoices:
    needs: list[str]
    districts: list[str]
    schools: list[str]
    priorities: list[int]


def filter_choices(database: Database, run_id: str) -> FilterChoices:
    """The values the (finished) run's children take, for the filter's drop-downs; kept."""
    return _CHOICES.get((id(database), run_id), lambda: _filter_choices(database, run_id))


def _filter_choices(database: Database, run_id: str) -> FilterChoices:
    with database.session() as session:

        def distinct(column: Any) -> list[object]:
            query = select(column).where(PlacementRecord.run_id == run_id, column.is_not(None)).distinct()
            return sorted(session.scalars(query), key=str)

        return FilterChoices(
            [str(v) for v in distinct(PlacementRecord.need)],
            [str(v) for v in distinct(PlacementRecord.district)],
            [str(v) for v in distinct(PlacementRecord.school_id)],
            sorted(int(str(v)) for v in distinct(PlacementRecord.priority)),
        )


Kept = TypeVar("Kept")


class Recent(Generic[Kept]):
    """The last `size` values made, by key, for what never changes once made: a stored case, and
    what the pages read of a finished run (a finished run is never changed; cancelling it is
    refused)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, Kept] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Kept]) -> Kept:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value


_LOADED: Recent[LoadedCase] = Recent(8)
_CHOICES: Recent[FilterChoices] = Recent(64)


def loaded_case(database: Database, case_id: str) -> LoadedCase:
    """The case as uploaded (no panel locks), loaded once and kept for the next pages: a stored
    case never changes. 404 `case_not_found`."""

    def load() -> LoadedCase:
        with database.session() as session:
            if get_case(session, case_id) is None:
                raise not_found("case", case_id)
            files = case_files(session, case_id)
        return load_files(files)

    return _LOADED.get((id(database), case_id), load)


def school_names(database: Database, case_id: str) -> dict[str, str]:
    return {school.school_id: school.name for school in loaded_case(database, case_id).case.schools}


def preferences_of(database: Database, case_id: str, child_id: str) -> list[tuple[int, str]]:
    """(rank, school_id) of the family's preferences, best first."""
    case = loaded_case(database, case_id).case
    return sorted((p.rank, p.school_id) for p in case.preferences if p.child_id == child_id)


def placed_by_school(database: Database, run_id: str) -> dict[str, int]:
    """school_id -> children the run placed there."""
    with database.session() as session:
        query = (
            select(PlacementRecord.school_id, func.count())
            .where(PlacementRecord.run_id == run_id, PlacementRecord.school_id.is_not(None))
            .group_by(PlacementRecord.school_id)
        )
        return {str(school): int(count) for school, count in session.execute(query)}
