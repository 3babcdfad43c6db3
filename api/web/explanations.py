"""One child's row of a run's explanations.csv, as the child page shows it.

The rows are stored with the run's placements (`api.services.explanations`), so the page reads
them with one SQL query rather than parsing the stored file."""

from api.errors import ApiError
from api.services.explanations import child_explanation
from api.storage.database import Database
from models.case import Policy


def explanation_row(database: Database, run_id: str, child_id: str, policy: Policy) -> dict[str, str] | None:
    """The child's explanation fields (name -> text), priority tiers named by the case's policy;
    None when the run wrote no explanations (plan-places, whatif, older runs) or has no such child."""
    try:
        found = child_explanation(database, run_id, child_id)
    except ApiError:
        return None
    if found.outcome is None:
        return None
    return {
        "outcome": found.outcome,
        "forced": "" if found.forced is None else ("yes" if found.forced else "no"),
        "explanation": found.plain_explanation or "",
        "add_place_school_id": found.add_place_school_id or "",
        "extra_minutes": "" if found.extra_minutes is None else str(found.extra_minutes),
        "priority_needed": "" if found.priority_needed is None else policy.priority_name(found.priority_needed),
    }
