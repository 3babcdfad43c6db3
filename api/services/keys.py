"""API keys: made (the key is returned once), listed, revoked and checked; each change audited.

The audit log holds `key_created` (key id, role, label, and `via`: `http` for POST /v1/keys by
an admin key, `cli` for `allocator keys create`) and `key_revoked` (key id, role) entries; they
belong to no case and are listed by GET /v1/keys/audit. The last admin key that is not revoked
cannot be revoked (409 `last_admin_key`): the service would have no one left to manage keys.
"""

from api.access import Role
from api.errors import ApiError, not_found
from api.storage import audit
from api.storage import keys as key_store
from api.storage.database import Database
from api.storage.tables import ApiKey, AuditEntry


def create_key(database: Database, role: Role, label: str, actor: str | None) -> tuple[ApiKey, str]:
    """A new key for `role`: its record and the key itself (shown once, stored hashed). `actor` is
    the admin key that asked over HTTP; None for `allocator keys create` (audited as `via: cli`)."""
    with database.session() as session:
        record, token = key_store.create_key(session, role, label, actor)
        via = "cli" if actor is None else "http"
        details = {"key_id": record.key_id, "role": record.role, "label": record.label, "via": via}
        audit.record(session, None, actor, "key_created", details)
    return record, token


def list_keys(database: Database) -> list[ApiKey]:
    with database.session() as session:
        return key_store.list_keys(session)


def revoke_key(database: Database, key_id: str, actor: str) -> None:
    """Revoke the key (again: no change); 404 for no such key, 409 `last_admin_key` for the
    only admin key left. Checked and done in one transaction that no other revocation interleaves."""
    with database.serialised() as session:
        active_admins = key_store.hold_active_admin_keys(session)
        if active_admins == [key_id]:
            raise ApiError(
                409, "last_admin_key", f"key '{key_id}' is the only admin key left; create another admin key first"
            )
        record = key_store.revoke_key(session, key_id)
        if record is None:
            raise not_found("key", key_id)
        audit.record(session, None, actor, "key_revoked", {"key_id": key_id, "role": record.role})


def key_audit(database: Database) -> list[AuditEntry]:
    """Every key_created and key_revoked entry, oldest first."""
    with database.session() as session:
        return key_store.key_audit_entries(session)


def verify_key(database: Database, token: str) -> tuple[str, str]:
    """(key_id, role) of an active key; 401 otherwise."""
    with database.session() as session:
        key = key_store.find_active_key(session, token)
        if key is None:
            raise ApiError(401, "unauthorised", "the API key is not valid or has been revoked")
        return key.key_id, key.role
