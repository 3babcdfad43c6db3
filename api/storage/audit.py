"""The append-only audit log: entries are only ever added, never changed."""

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.storage.clock import now
from api.storage.tables import AuditEntry


def record(session: Session, case_id: str | None, actor: str | None, action: str, details: dict[str, Any]) -> None:
    session.add(AuditEntry(case_id=case_id, at=now(), actor=actor, action=action, details=details))


def entries_for_case(session: Session, case_id: str) -> list[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.entry_id)
    return list(session.scalars(query))
