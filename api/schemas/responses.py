"""Response bodies."""

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

Item = TypeVar("Item")


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


class ChildPlacement(AllocationRow):
    run_id: str
    decisions: list[DecisionOut]


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
