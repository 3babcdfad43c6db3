"""GET /v1/health: no key needed; says whether the database answers."""

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from api.dependencies import DatabaseDep
from api.routers import V1
from api.schemas.responses import Health
from api.services.health import database_state

router = APIRouter(prefix=V1, tags=["health"])


@router.get("/health")
def health(database: DatabaseDep) -> Health:
    state = database_state(database)
    try:
        software = version("send-allocator")
    except PackageNotFoundError:
        software = "unknown"
    return Health(status="ok" if state == "ok" else "degraded", version=software, database=state)
