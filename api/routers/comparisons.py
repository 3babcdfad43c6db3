"""Two runs compared, and a panel decision's knock-on effect previewed (nothing stored)."""

from typing import Annotated

from fastapi import APIRouter, Body

from api.dependencies import DatabaseDep, Decider, Reader
from api.routers import V1
from api.schemas.comparisons import ComparisonOut, KnockOnOut, KnockOnRequest, diff_fields
from api.services.compare import compare_runs
from api.services.knock_on import PanelDecision, knock_on

router = APIRouter(prefix=V1 + "/runs", tags=["comparisons and knock-on effects"])


@router.get("/{run_a}/compare/{run_b}")
def compare(run_a: str, run_b: str, _caller: Reader, database: DatabaseDep) -> ComparisonOut:
    """What changed from run `run_a` to run `run_b` (finished runs of one case): the children who
    moved, each with a reason, the moves by priority tier, and the change in every figure."""
    found = compare_runs(database, run_a, run_b)
    return ComparisonOut(case_id=found.case_id, run_a=run_a, run_b=run_b, **diff_fields(found.diff))


@router.post("/{run_id}/children/{child_id}/knock-on")
def preview_knock_on(
    run_id: str, child_id: str, request: Annotated[KnockOnRequest, Body()], _caller: Decider, database: DatabaseDep
) -> KnockOnOut:
    """The run's case solved again with the decision applied as the next run would apply it:
    which children would move and why, and the change in every figure. Nothing is stored."""
    decision = PanelDecision(request.decision, request.school_id, request.reason)
    found = knock_on(database, run_id, child_id, decision)
    return KnockOnOut(
        run_id=run_id,
        child_id=child_id,
        decision=found.decision,
        school_id=found.school_id,
        **diff_fields(found.diff),
    )
