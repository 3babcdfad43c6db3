"""API keys: made (the key is returned once), listed, revoked and checked; each change audited."""

from api.access import Role
from api.errors import ApiError, not_found
from api.storage import audit
from api.storage import keys as key_store
from api.storage.database import Database
from api.storage.tables import ApiKey


def create_key(database: Database, role: Role, label: str, actor: str | None) -> tuple[ApiKey, str]:
    """A new key for `role`: its record and the key itself (shown once, stored hashed)."""
    with database.session() as session:
        record, token = key_store.create_key(session, role, label, actor)
        audit.record(session, None, actor, "key_created", {"key_id": record.key_id, "role": record.role})
    return record, token


def list_keys(database: Database) -> list[ApiKey]:
    with database.session() as session:
        return key_store.list_keys(session)


def revoke_key(database: Database, key_id: str, actor: str) -> None:
    with database.session() as session:
        if key_store.revoke_key(session, key_id) is None:
            raise not_found("key", key_id)
        audit.record(session, None, actor, "key_revoked", {"key_id": key_id})


def verify_key(database: Database, token: str) -> tuple[str, str]:
    """(key_id, role) of an active key; 401 otherwise."""
    with database.session() as session:
        key = key_store.find_active_key(session, token)
        if key is None:
            raise ApiError(401, "unauthorised", "the API key is not valid or has been revoked")
        return key.key_id, key.role
