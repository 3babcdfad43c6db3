"""explanations.csv's rows in `placements` (issue 9): outcome, first choice, forced, the
counterfactuals and the plain sentence, so explanation pages are SQL queries filtered by outcome.
Runs finished before this migration have none (the columns stay empty; their
/explanations is 404 `explanations_not_found`).

Revision ID: 0003_explanations
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_explanations"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("outcome", sa.String(16)),
    ("first_choice_school_id", sa.String(100)),
    ("forced", sa.Boolean),
    ("add_place_school_id", sa.String(100)),
    ("extra_minutes", sa.Integer),
    ("priority_needed", sa.Integer),
    ("plain_explanation", sa.Text),
)


def upgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("placements") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
