"""A finished run's placements, one row per child in children.csv order, read page by page."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, insert, select
from sqlalchemy.orm import Session

from api.storage.tables import PlacementRecord


@dataclass(frozen=True)
class PlacementFilter:
    """Which placements to list; None means any."""

    school: str | None = None
    need: str | None = None
    district: str | None = None
    unplaced: bool | None = None
    outcome: str | None = None  # explanations.csv's outcome
    explained: bool = False  # only rows with an explanations.csv row

    def conditions(self, run_id: str) -> list[ColumnElement[bool]]:
        found = [PlacementRecord.run_id == run_id]
        if self.school is not None:
            found.append(PlacementRecord.school_id == self.school)
        if self.need is not None:
            found.append(PlacementRecord.need == self.need)
        if self.district is not None:
            found.append(PlacementRecord.district == self.district)
        if self.unplaced is True:
            found.append(PlacementRecord.school_id.is_(None))
        elif self.unplaced is False:
            found.append(PlacementRecord.school_id.is_not(None))
        if self.outcome is not None:
            found.append(PlacementRecord.outcome == self.outcome)
        if self.explained:
            found.append(PlacementRecord.outcome.is_not(None))
        return found


def add_placements(session: Session, run_id: str, rows: Sequence[dict[str, Any]]) -> None:
    """Store a run's placements; `rows` hold every column but run_id, in children.csv order."""
    if rows:
        session.execute(insert(PlacementRecord), [{**row, "run_id": run_id} for row in rows])


def has_placements(session: Session, run_id: str) -> bool:
    return bool(session.scalar(select(exists().where(PlacementRecord.run_id == run_id))))


def placement_page(
    session: Session, run_id: str, where: PlacementFilter, offset: int, limit: int
) -> tuple[int, list[PlacementRecord]]:
    """(how many match, the page of them in children.csv order). An offset past the last match is
    an empty page, whatever its size (the databases refuse an OFFSET beyond 64 bits)."""
    conditions = where.conditions(run_id)
    total = session.scalar(select(func.count()).select_from(PlacementRecord).where(*conditions)) or 0
    if offset >= total:
        return int(total), []
    query = select(PlacementRecord).where(*conditions).order_by(PlacementRecord.position).offset(offset).limit(limit)
    return int(total), list(session.scalars(query))


def placement_of(session: Session, run_id: str, child_id: str) -> PlacementRecord | None:
    query = select(PlacementRecord).where(PlacementRecord.run_id == run_id, PlacementRecord.child_id == child_id)
    return session.scalar(query)


def placements_of_run(session: Session, run_id: str) -> list[PlacementRecord]:
    """Every placement of the run, in children.csv order."""
    query = select(PlacementRecord).where(PlacementRecord.run_id == run_id).order_by(PlacementRecord.position)
    return list(session.scalars(query))
