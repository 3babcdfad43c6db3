"""API keys: create (the token is returned once), find by token, list, revoke."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Role, make_key, secret_matches, split_token
from api.storage.clock import now
from api.storage.tables import ApiKey, AuditEntry

KEY_ACTIONS = ("key_created", "key_revoked")


def create_key(session: Session, role: Role, label: str = "", created_by: str | None = None) -> tuple[ApiKey, str]:
    new = make_key()
    record = ApiKey(
        key_id=new.key_id,
        role=role.value,
        salt=new.salt,
        secret_sha256=new.secret_sha256,
        label=label,
        created_at=now(),
        created_by=created_by,
        revoked_at=None,
    )
    session.add(record)
    session.flush()
    return record, new.token


def find_active_key(session: Session, token: str) -> ApiKey | None:
    parts = split_token(token)
    if parts is None:
        return None
    key_id, secret = parts
    record = session.get(ApiKey, key_id)
    if record is None or record.revoked_at is not None:
        return None
    return record if secret_matches(record.salt, record.secret_sha256, secret) else None


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.key_id)))


def hold_active_admin_keys(session: Session) -> list[str]:
    """The ids of the admin keys not revoked, locked until the session's transaction ends
    (PostgreSQL: SELECT ... FOR UPDATE; SQLite: use a `Database.serialised()` session), so two
    revocations cannot both see the other's key still active."""
    query = (
        select(ApiKey.key_id)
        .where(ApiKey.role == Role.ADMIN.value, ApiKey.revoked_at.is_(None))
        .order_by(ApiKey.key_id)
        .with_for_update()
    )
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: str) -> ApiKey | None:
    record = session.get(ApiKey, key_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = now()
    return record


def key_audit_entries(session: Session) -> list[AuditEntry]:
    """The audit log's key_created and key_revoked entries, oldest first."""
    query = (
        select(AuditEntry)
        .where(AuditEntry.case_id.is_(None), AuditEntry.action.in_(KEY_ACTIONS))
        .order_by(AuditEntry.entry_id)
    )
    return list(session.scalars(query))
