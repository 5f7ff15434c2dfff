"""forum page stamp: the generation the anonymous page cache keys by

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('forum_page_stamp',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.BigInteger(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_page_stamp'))
    )
    op.execute("INSERT INTO forum_page_stamp (id, generation) VALUES (1, 0)")


def downgrade():
    op.drop_table('forum_page_stamp')
