"""Response bodies."""

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")


class ErrorBody(BaseModel):
    """Every error answer: a stable `code` to branch on, a sentence, and the problems found
    (`file:line: column: message` for an invalid case, `field: message` for a bad request)."""

    code: str
    message: str
    problems: list[str]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "malformed request (e.g. `json_invalid`)",
        401: "no valid key (`unauthorised`)",
        403: "the key's role may not do this (`forbidden`)",
        404: "unknown case, run, child or key",
        413: "request body too large (`upload_too_large`)",
        409: "the request conflicts with what is stored (e.g. `run_finished`, `no_place_left`, "
        "`decision_does_not_match_run`, `last_admin_key`)",
        422: "invalid case (`case_invalid`) or request (`request_invalid`)",
    }.items()
}


class Health(BaseModel):
    status: str
    version: str
    database: str


class CaseCreated(BaseModel):
    case_id: str
    input_sha256: str


class CaseOut(BaseModel):
    case_id: str
    input_sha256: str
    schools: int
    children: int
    files: list[str]
    created_at: datetime
    created_by: str


class Page(BaseModel, Generic[Item]):
    total: int
    offset: int
    limit: int
    items: list[Item]


class RunQueued(BaseModel):
    run_id: str
    status: str


class RunOut(BaseModel):
    run_id: str
    case_id: str
    kind: str
    status: str
    options: dict[str, Any]
    summary: dict[str, Any] | None
    error: str | None
    files: list[str]
    input_sha256: str | None
    software: dict[str, Any] | None
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None


class AllocationRow(BaseModel):
    child_id: str
    need: str
    district: str | None
    priority: int
    placed: bool
    school_id: str | None
    travel_minutes: int | None
    preference_rank: int | None
    locked: bool
    reason: str | None
    explanation: str


class DecisionOut(BaseModel):
    decision_id: int
    case_id: str
    child_id: str
    school_id: str
    decision: str
    reason: str
    run_id: str | None
    decided_at: datetime
    decided_by: str


class ExplanationRow(BaseModel):
    """One row of explanations.csv (README, issue 9); `forced` and the counterfactuals are None
    where the file's cell is empty."""

    child_id: str
    outcome: str
    school_id: str | None
    first_choice_school_id: str | None
    forced: bool | None
    add_place_school_id: str | None
    extra_minutes: int | None
    priority_needed: int | None
    explanation: str


class ChildPlacement(AllocationRow):
    """allocation.csv's row with the child's explanations.csv fields (None for runs without
    them; the plain sentence is `plain_explanation`, `explanation` stays allocation.csv's)."""

    run_id: str
    decisions: list[DecisionOut]
    outcome: str | None = None
    first_choice_school_id: str | None = None
    forced: bool | None = None
    add_place_school_id: str | None = None
    extra_minutes: int | None = None
    priority_needed: int | None = None
    plain_explanation: str | None = None


class AuditOut(BaseModel):
    entry_id: int
    at: datetime
    actor: str | None
    action: str
    details: dict[str, Any]


class KeyOut(BaseModel):
    key_id: str
    role: str
    label: str
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    key: str
