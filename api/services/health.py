"""Whether the database answers, for GET /v1/health."""

from sqlalchemy import text

from api.storage.database import Database


def database_state(database: Database) -> str:
    """`ok` when the database answers a query, else `unavailable`."""
    try:
        with database.session() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - health reports, it does not fail
        return "unavailable"
    return "ok"
