"""balance community points: the shared daily community cap is counted in the balance row

The cap was a ``point_cap_counters`` row per member and day (rule 0), read and upserted by every
batch next to the balance row the batch locks and writes anyway. The balance row now carries the
day and the points community rules paid on it; each member's newest rule-0 counter moves there.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-24 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

NEWEST = (
    "FROM point_cap_counters c WHERE c.member_id = point_balances.member_id AND c.rule_id = 0 "
    "AND c.period = 'day' ORDER BY c.period_key DESC LIMIT 1"
)


def upgrade():
    with op.batch_alter_table('point_balances', schema=None) as batch_op:
        batch_op.add_column(sa.Column('community_day', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('community_points', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        f"UPDATE point_balances SET community_day = (SELECT c.period_key {NEWEST}), "
        f"community_points = COALESCE((SELECT c.points {NEWEST}), 0)"
    )
    op.execute("DELETE FROM point_cap_counters WHERE rule_id = 0")


def downgrade():
    op.execute(
        "INSERT INTO point_cap_counters (member_id, rule_id, period, period_key, points) "
        "SELECT member_id, 0, 'day', community_day, community_points FROM point_balances "
        "WHERE community_day IS NOT NULL"
    )
    with op.batch_alter_table('point_balances', schema=None) as batch_op:
        batch_op.drop_column('community_points')
        batch_op.drop_column('community_day')
