"""GET /v1/health: no key needed; says whether the database answers."""

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from sqlalchemy import text

from api.dependencies import DatabaseDep
from api.routers import V1
from api.schemas.responses import Health

router = APIRouter(prefix=V1, tags=["health"])


@router.get("/health")
def health(database: DatabaseDep) -> Health:
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
        state = "ok"
    except Exception:  # noqa: BLE001 - health reports, it does not fail
        state = "unavailable"
    try:
        software = version("send-allocator")
    except PackageNotFoundError:
        software = "unknown"
    return Health(status="ok" if state == "ok" else "degraded", version=software, database=state)
