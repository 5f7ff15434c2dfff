"""point entries: the indexes on mostly-empty columns become partial (IS NOT NULL)

An earning entry has no actor, reverses nothing, and (unless it is a purchase) has no expiry
and no release date: it no longer writes into those five indexes. Every query that uses one
compares the column, which implies the predicate.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

# name: (columns, the column that must not be NULL)
INDEXES = {
    'ix_point_entries_expiry': (['expires_at', 'remaining'], 'expires_at'),
    'ix_point_entries_pending': (['status', 'available_at'], 'available_at'),
    'ix_point_entries_reverses_id': (['reverses_id'], 'reverses_id'),
    'ix_point_entries_actor_id': (['actor_id'], 'actor_id'),
    'ix_point_entries_qualifying_until': (['qualifying_until'], 'qualifying_until'),
}


def upgrade():
    for name, (columns, column) in INDEXES.items():
        op.drop_index(name, table_name='point_entries')
        predicate = sa.text(f'{column} IS NOT NULL')
        op.create_index(
            name, 'point_entries', columns, unique=False, postgresql_where=predicate, sqlite_where=predicate
        )


def downgrade():
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name='point_entries')
        op.create_index(name, 'point_entries', columns, unique=False)
