"""point totals pending: a batch's period-total changes, added right after its commit

The API's batch path no longer adds to the leaderboards' rows while it holds its members'
balance rows: it stores the changes as one row here, in its own transaction, and a job queued
for the commit adds them (a periodic job settles what a lost job left).

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24 00:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'point_totals_pending',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('deltas', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_point_totals_pending')),
    )


def downgrade():
    op.drop_table('point_totals_pending')
