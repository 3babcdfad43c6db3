"""Placements as data: one row per child of a finished run, so allocation pages are SQL queries.

Runs finished before this migration get their rows from their stored allocation.csv and the
case's children.csv (need, district, priority; locked when the upload or the run's panel locks
say so), as the allocation endpoint used to read them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import csv
import io
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "placements",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("runs.run_id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("child_id", sa.String(100), nullable=False),
        sa.Column("school_id", sa.String(100)),
        sa.Column("travel_minutes", sa.Integer),
        sa.Column("preference_rank", sa.Integer),
        sa.Column("reason", sa.String(40)),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("need", sa.String(8), nullable=False),
        sa.Column("district", sa.String(200)),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_placements_run_child", "placements", ["run_id", "child_id"], unique=True)
    op.create_index("ix_placements_run_school", "placements", ["run_id", "school_id"])
    _backfill()


RUNS = sa.table(
    "runs",
    sa.column("run_id", sa.String),
    sa.column("case_id", sa.String),
    sa.column("options", sa.JSON),
    sa.column("allocation_csv", sa.Text),
)
CASE_FILES = sa.table(
    "case_files",
    sa.column("case_id", sa.String),
    sa.column("file_name", sa.String),
    sa.column("content", sa.LargeBinary),
)
PLACEMENTS = sa.table(
    "placements",
    *(
        sa.column(name)
        for name in (
            "run_id",
            "position",
            "child_id",
            "school_id",
            "travel_minutes",
            "preference_rank",
            "reason",
            "explanation",
            "need",
            "district",
            "priority",
            "locked",
        )
    ),
)


def _backfill() -> None:
    bind = op.get_bind()
    finished = bind.execute(
        sa.select(RUNS.c.run_id, RUNS.c.case_id, RUNS.c.options, RUNS.c.allocation_csv).where(
            RUNS.c.allocation_csv.is_not(None)
        )
    ).all()
    for run_id, case_id, options, allocation in finished:
        content = bind.execute(
            sa.select(CASE_FILES.c.content).where(
                CASE_FILES.c.case_id == case_id, CASE_FILES.c.file_name == "children.csv"
            )
        ).scalar()
        children = _rows_by_id(content or b"")
        locks = (options or {}).get("locks", {})
        rows = [
            _row(run_id, position, cells, children.get(cells["child_id"], {}), locks)
            for position, cells in enumerate(csv.DictReader(io.StringIO(allocation, newline="")))
        ]
        if rows:
            bind.execute(sa.insert(PLACEMENTS), rows)


def _row(
    run_id: str, position: int, cells: dict[str, str], child: dict[str, str], locks: dict[str, str]
) -> dict[str, Any]:
    code, _, sentence = (cells.get("reason") or "").partition(": ")
    return {
        "run_id": run_id,
        "position": position,
        "child_id": cells["child_id"],
        "school_id": cells["school_id"] or None,
        "travel_minutes": int(cells["travel_minutes"]) if cells["travel_minutes"] else None,
        "preference_rank": int(cells["preference_rank"]) if cells["preference_rank"] else None,
        "reason": code or None,
        "explanation": sentence,
        "need": child.get("need", ""),
        "district": child.get("district") or None,
        "priority": int(child.get("priority") or 0),
        "locked": bool(child.get("locked_school_id")) or cells["child_id"] in locks,
    }


def _rows_by_id(content: bytes) -> dict[str, dict[str, str]]:
    rows: dict[str, dict[str, str]] = {}
    for row in csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")):
        clean = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        if clean.get("child_id"):
            rows[clean["child_id"]] = clean
    return rows


def downgrade() -> None:
    op.drop_index("ix_placements_run_school", "placements")
    op.drop_index("ix_placements_run_child", "placements")
    op.drop_table("placements")
