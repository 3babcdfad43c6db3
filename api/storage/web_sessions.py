"""Web sessions: rows keyed by sha256 of the cookie's id, so the database never holds the id."""

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.storage.tables import ApiKey, WebSessionRecord


def add_session(session: Session, id_sha256: str, key_id: str, role: str, at: datetime) -> None:
    session.add(WebSessionRecord(id_sha256=id_sha256, key_id=key_id, role=role, created_at=at, last_seen_at=at))


def live_session(session: Session, id_sha256: str) -> WebSessionRecord | None:
    """The session with that id hash whose key is not revoked, else None."""
    query = (
        select(WebSessionRecord)
        .join(ApiKey, ApiKey.key_id == WebSessionRecord.key_id)
        .where(WebSessionRecord.id_sha256 == id_sha256, ApiKey.revoked_at.is_(None))
    )
    return session.scalars(query).first()


def delete_session(session: Session, id_sha256: str) -> WebSessionRecord | None:
    record = session.get(WebSessionRecord, id_sha256)
    if record is not None:
        session.delete(record)
    return record


def delete_expired(session: Session, idle_before: datetime, created_before: datetime) -> None:
    session.execute(
        delete(WebSessionRecord).where(
            (WebSessionRecord.last_seen_at < idle_before) | (WebSessionRecord.created_at < created_before)
        )
    )
