"""API keys (admin only): create (the key is shown once), list, revoke, and their audit entries."""

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from api.dependencies import DatabaseDep, KeyManager, RecentKeysDep
from api.routers import V1
from api.schemas.requests import KeyRequest
from api.schemas.responses import AuditOut, ErrorBody, KeyCreated, KeyOut
from api.services.keys import create_key, key_audit, list_keys, revoke_key

router = APIRouter(prefix=f"{V1}/keys", tags=["keys"])

LAST_ADMIN: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "the only admin key left (`last_admin_key`)"}
}


@router.post("", status_code=201)
def create(request: Annotated[KeyRequest, Body()], caller: KeyManager, database: DatabaseDep) -> KeyCreated:
    record, token = create_key(database, request.role, request.label, caller.key_id)
    return KeyCreated(**KeyOut.model_validate(record, from_attributes=True).model_dump(), key=token)


@router.get("")
def list_all(_caller: KeyManager, database: DatabaseDep) -> list[KeyOut]:
    return [KeyOut.model_validate(record, from_attributes=True) for record in list_keys(database)]


@router.get("/audit")
def audit(_caller: KeyManager, database: DatabaseDep) -> list[AuditOut]:
    """Keys created (over HTTP or by `allocator keys create`) and revoked, oldest first."""
    return [AuditOut.model_validate(entry, from_attributes=True) for entry in key_audit(database)]


@router.delete("/{key_id}", status_code=204, responses=LAST_ADMIN)
def revoke(key_id: str, caller: KeyManager, database: DatabaseDep, recent: RecentKeysDep) -> Response:
    """Revoke a key; the only admin key left cannot be revoked (409 `last_admin_key`)."""
    revoke_key(database, key_id, caller.key_id)
    recent.forget(key_id)
    return Response(status_code=204)
