"""API keys: create (the token is returned once), find by token, list, revoke."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.access import Role, make_key, secret_matches, split_token
from api.storage.clock import now
from api.storage.tables import ApiKey


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


def revoke_key(session: Session, key_id: str) -> ApiKey | None:
    record = session.get(ApiKey, key_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = now()
    return record
