"""A finished run's explanations.csv rows, read from the `placements` table (issue 9): pages
filtered by outcome in SQL, and one child's row, for the HTTP endpoints and a web page."""

from api.errors import ApiError
from api.services.runs import finished_run, placement_or_404
from api.storage.database import Database
from api.storage.placements import PlacementFilter, placement_page
from api.storage.tables import PlacementRecord
from models.results import Outcome

OUTCOMES = tuple(outcome.value for outcome in Outcome)


def explanation_page(
    database: Database, run_id: str, outcome: str | None, offset: int, limit: int
) -> tuple[int, list[PlacementRecord]]:
    """(how many rows match, the page of them in children.csv order). An unknown outcome is 422
    `outcome_invalid`; a run without explanations (plan-places, whatif, older runs) is 404
    `explanations_not_found`."""
    if outcome is not None and outcome not in OUTCOMES:
        raise ApiError(422, "outcome_invalid", f"unknown outcome '{outcome}': one of {', '.join(OUTCOMES)}")
    run = finished_run(database, run_id)
    with database.session() as session:
        total, _ = placement_page(session, run_id, PlacementFilter(explained=True), 0, 1)
        if total == 0:
            raise ApiError(404, "explanations_not_found", f"run '{run_id}' has no explanations ({run.kind})")
        return placement_page(session, run_id, PlacementFilter(outcome=outcome, explained=True), offset, limit)


def child_explanation(database: Database, run_id: str, child_id: str) -> PlacementRecord:
    """The child's row (its explanation columns are None when the run has none)."""
    finished_run(database, run_id)
    with database.session() as session:
        return placement_or_404(session, run_id, child_id)
