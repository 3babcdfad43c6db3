"""API keys (admin only): create (the key is shown once), list, revoke."""

from typing import Annotated

from fastapi import APIRouter, Body, Response

from api.dependencies import DatabaseDep, KeyManager, RecentKeysDep
from api.errors import not_found
from api.routers import V1
from api.schemas.requests import KeyRequest
from api.schemas.responses import KeyCreated, KeyOut
from api.storage import audit
from api.storage.keys import create_key, list_keys, revoke_key

router = APIRouter(prefix=f"{V1}/keys", tags=["keys"])


@router.post("", status_code=201)
def create(request: Annotated[KeyRequest, Body()], caller: KeyManager, database: DatabaseDep) -> KeyCreated:
    with database.session() as session:
        record, token = create_key(session, request.role, request.label, caller.key_id)
        audit.record(session, None, caller.key_id, "key_created", {"key_id": record.key_id, "role": record.role})
        return KeyCreated(**KeyOut.model_validate(record, from_attributes=True).model_dump(), key=token)


@router.get("")
def list_all(_caller: KeyManager, database: DatabaseDep) -> list[KeyOut]:
    with database.session() as session:
        return [KeyOut.model_validate(record, from_attributes=True) for record in list_keys(session)]


@router.delete("/{key_id}", status_code=204)
def revoke(key_id: str, caller: KeyManager, database: DatabaseDep, recent: RecentKeysDep) -> Response:
    with database.session() as session:
        if revoke_key(session, key_id) is None:
            raise not_found("key", key_id)
        audit.record(session, None, caller.key_id, "key_revoked", {"key_id": key_id})
    recent.forget(key_id)
    return Response(status_code=204)
