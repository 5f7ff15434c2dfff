"""contests: member segments that alone may enter or vote

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-23 12:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enter_segment_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('vote_segment_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_column('vote_segment_id')
        batch_op.drop_column('enter_segment_id')
