"""`allocator serve` and `allocator keys create`: parse arguments, call the service code.

Wire into the CLI with `register(app)` (see cli/main.py). Both read the service
settings (`ALLOCATOR_*`, see api/settings.py) when they run, never at import.
"""

import copy
from typing import Any

import typer

from cli.options import Host, KeyRole, Label, Port


def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Start the HTTP service (FastAPI under uvicorn); OpenAPI docs at /docs."""
    import uvicorn

    from api.app import create_app

    # uvicorn's access log prints concrete paths, which can hold child ids: the app logs
    # route templates instead (api.middleware.RequestLog).
    uvicorn.run(create_app(), host=host, port=port, log_config=log_config(), access_log=False)


def log_config() -> dict[str, Any]:
    """uvicorn's logging, plus the service's own `allocator.*` loggers at INFO."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["allocator"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def create_key(role: KeyRole, label: Label = "") -> None:
    """Make an API key in the configured database and print it once (only its hash is kept)."""
    from api.services.keys import create_key as make_key
    from api.settings import Settings
    from api.storage.database import open_database

    database = open_database(Settings().resolved_database_url())
    try:
        record, token = make_key(database, role, label, actor=None)
    finally:
        database.close()
    typer.echo(token)
    typer.echo(f"key {record.key_id} ({role.value}) created; this is the only time the key is shown.", err=True)


def register(app: typer.Typer) -> None:
    """Add `serve` and the `keys` group to the allocator command."""
    app.command("serve")(serve)
    keys = typer.Typer(no_args_is_help=True, help="API keys for the HTTP service.")
    keys.command("create")(create_key)
    app.add_typer(keys, name="keys")
