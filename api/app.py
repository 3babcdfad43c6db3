"""The app factory: `create_app(settings)` reads settings (from the environment when none
are given), opens and migrates the database, fails the runs a stopped service left unfinished,
starts the worker pool, and mounts /v1."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from api.access import RecentKeys
from api.errors import error_body, install_error_handlers
from api.middleware import BodyLimit, RequestLog
from api.routers import cases, comparisons, decisions, health, keys, runs
from api.schemas.responses import ERROR_RESPONSES
from api.services.run_queue import QueueFull, RunQueue, fail_interrupted
from api.services.runs import FinishedRuns
from api.settings import Settings
from api.storage.database import open_database
from api.web import install_web


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.resolved_database_url()
        database = open_database(url)
        # Runs a stopped (or killed) service left queued or running: failed, audited, startable again.
        fail_interrupted(database, "the service stopped")
        queue = RunQueue(settings, database, url)
        app.state.settings = settings
        app.state.database = database
        app.state.queue = queue
        app.state.recent_keys = RecentKeys()
        app.state.finished_runs = FinishedRuns()
        try:
            yield
        finally:
            queue.close()
            database.close()

    app = FastAPI(
        title="SEND placement allocator",
        version="1",
        description="Cases, runs, panel decisions and their audit trail. Send `Authorization: Bearer <key>`.",
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
    )
    for router in (health.router, cases.router, runs.router, comparisons.router, decisions.router, keys.router):
        app.include_router(router)
    install_error_handlers(app)
    install_web(app)

    @app.exception_handler(QueueFull)
    async def _queue_full(_request: Request, error: QueueFull) -> JSONResponse:
        body = error_body(error.code, error.message)
        return JSONResponse(body, status_code=error.status, headers={"Retry-After": str(error.retry_after)})

    app.add_middleware(BodyLimit, max_bytes=settings.max_upload_bytes)
    app.add_middleware(RequestLog)
    return app
