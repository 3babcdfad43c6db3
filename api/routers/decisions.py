"""Panel decisions and the case's audit log."""

from typing import Annotated

from fastapi import APIRouter, Body

from api.dependencies import DatabaseDep, Decider, Reader
from api.routers import V1
from api.schemas.requests import DecisionRequest
from api.schemas.responses import AuditOut, DecisionOut
from api.services import decisions as service

router = APIRouter(prefix=V1 + "/cases/{case_id}", tags=["decisions and audit"])


@router.post("/decisions", status_code=201)
def decide(
    case_id: str, decision: Annotated[DecisionRequest, Body()], caller: Decider, database: DatabaseDep
) -> DecisionOut:
    """Record a panel decision about a finished run (`run_id`): `accept` the school the run proposed,
    `override` it with another, or `refuse` it. `accept` and `override` lock the child to the school
    in later runs."""
    record = service.record_decision(database, case_id, decision.model_dump(), caller.key_id)
    return DecisionOut.model_validate(record, from_attributes=True)


@router.get("/decisions")
def list_decisions(case_id: str, _caller: Reader, database: DatabaseDep) -> list[DecisionOut]:
    return [DecisionOut.model_validate(d, from_attributes=True) for d in service.list_decisions(database, case_id)]


@router.get("/audit")
def audit_log(case_id: str, _caller: Reader, database: DatabaseDep) -> list[AuditOut]:
    """Uploads, runs (input hash, versions, options, status) and decisions, oldest first."""
    return [AuditOut.model_validate(e, from_attributes=True) for e in service.audit_log(database, case_id)]
