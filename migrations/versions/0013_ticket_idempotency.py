"""tickets: an integration's idempotency key per ticket

Revision ID: 0013
Revises: 0009
Create Date: 2026-11-23 12:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('tickets', sa.Column('api_idempotency_key', sa.String(length=200), nullable=True))
    op.create_index(op.f('ix_tickets_api_idempotency_key'), 'tickets', ['api_idempotency_key'], unique=True)


def downgrade():
    op.drop_index(op.f('ix_tickets_api_idempotency_key'), table_name='tickets')
    with op.batch_alter_table('tickets') as batch_op:
        batch_op.drop_column('api_idempotency_key')
