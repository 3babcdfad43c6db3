"""One clock for every stored time (UTC, aware)."""

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
