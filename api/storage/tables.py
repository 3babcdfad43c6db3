"""The service's tables (typed SQLAlchemy 2 ORM). The schema itself is created by Alembic
migrations in `api/migrations/versions`; keep the two in step.

Raw API keys are never stored: only a per-key salt and sha256(salt + secret).
`audit_log` is append-only (the migration installs triggers refusing UPDATE and DELETE).
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database (SQLite hands back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UtcDateTime()}


class ApiKey(Base):
    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    salt: Mapped[str] = mapped_column(String(64))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(32))
    revoked_at: Mapped[datetime | None]


class CaseRecord(Base):
    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    input_sha256: Mapped[str] = mapped_column(String(64))
    schools: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))


class CaseFile(Base):
    """One uploaded contract file, byte for byte, so the case can be loaded again."""

    __tablename__ = "case_files"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), primary_key=True)
    file_name: Mapped[str] = mapped_column(String(40), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class RunRecord(Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    options: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any] | None]
    # The outputs are large and read only by the file endpoint: deferred, so that reading a
    # run's status and summary stays cheap (see api.storage.runs.output_file). The allocation
    # endpoints read the `placements` table instead.
    allocation_csv: Mapped[str | None] = mapped_column(Text, deferred=True)
    files: Mapped[dict[str, Any] | None] = mapped_column(deferred=True)
    file_names: Mapped[list[str] | None]
    error: Mapped[str | None] = mapped_column(Text)
    input_sha256: Mapped[str | None] = mapped_column(String(64))
    software: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    seconds: Mapped[float | None]


class PlacementRecord(Base):
    """One row of a finished run's allocation (children.csv order: `position` from 0), with the
    child's need, district and priority as the run read them, so pages are filtered in SQL."""

    __tablename__ = "placements"
    __table_args__ = (
        Index("ix_placements_run_child", "run_id", "child_id", unique=True),
        Index("ix_placements_run_school", "run_id", "school_id"),
    )

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.run_id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    child_id: Mapped[str] = mapped_column(String(100))
    school_id: Mapped[str | None] = mapped_column(String(100))
    travel_minutes: Mapped[int | None] = mapped_column(Integer)
    preference_rank: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(40))
    explanation: Mapped[str] = mapped_column(Text)
    need: Mapped[str] = mapped_column(String(8))
    district: Mapped[str | None] = mapped_column(String(200))
    priority: Mapped[int] = mapped_column(Integer)
    locked: Mapped[bool] = mapped_column(Boolean)
    # explanations.csv's row (issue 9; migration 0003_explanations): None for runs without one
    outcome: Mapped[str | None] = mapped_column(String(16))
    first_choice_school_id: Mapped[str | None] = mapped_column(String(100))
    forced: Mapped[bool | None] = mapped_column(Boolean)
    add_place_school_id: Mapped[str | None] = mapped_column(String(100))
    extra_minutes: Mapped[int | None] = mapped_column(Integer)
    priority_needed: Mapped[int | None] = mapped_column(Integer)
    plain_explanation: Mapped[str | None] = mapped_column(Text)


class DecisionRecord(Base):
    __tablename__ = "decisions"

    decision_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    child_id: Mapped[str] = mapped_column(String(100))
    school_id: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime]
    decided_by: Mapped[str] = mapped_column(String(32))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str | None] = mapped_column(String(40), index=True)
    at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(40))
    details: Mapped[dict[str, Any]]


class WebSessionRecord(Base):
    """A signed-in browser (api/web/session.py): only sha256 of the cookie's random id is kept."""

    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
