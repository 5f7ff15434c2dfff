"""point boards: period totals name their leaderboard by an integer id

``point_totals`` was keyed by (member, period, period key, scope), three text columns repeated
in the primary key and the top-N index of every row. A batch adds to thousands of these rows, so
their width was most of the cost of its biggest statement. The (period, period key, scope)
triples move to ``point_boards``; the totals are rebuilt keyed by (member, board).

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'point_boards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('period_key', sa.String(length=12), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_point_boards')),
        sa.UniqueConstraint('period', 'period_key', 'scope', name=op.f('uq_point_boards_period_period_key_scope')),
    )
    op.execute(
        "INSERT INTO point_boards (period, period_key, scope) "
        "SELECT DISTINCT period, period_key, scope FROM point_totals ORDER BY period, period_key, scope"
    )
    op.execute(
        "CREATE TABLE point_totals_copy AS "
        "SELECT t.member_id AS member_id, b.id AS board_id, t.points AS points FROM point_totals t "
        "JOIN point_boards b ON b.period = t.period AND b.period_key = t.period_key AND b.scope = t.scope"
    )
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_point_totals_top')
    op.drop_table('point_totals')
    op.create_table(
        'point_totals',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('board_id', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['board_id'], ['point_boards.id'], name=op.f('fk_point_totals_board_id_point_boards')),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_point_totals_member_id_members'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('member_id', 'board_id', name=op.f('pk_point_totals')),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO point_totals (member_id, board_id, points) "
        "SELECT member_id, board_id, points FROM point_totals_copy ORDER BY member_id, board_id"
    )
    op.drop_table('point_totals_copy')
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.create_index('ix_point_totals_top', ['board_id', 'points', 'member_id'], unique=False)


def downgrade():
    op.execute(
        "CREATE TABLE point_totals_copy AS "
        "SELECT t.member_id AS member_id, b.period AS period, b.period_key AS period_key, b.scope AS scope, "
        "t.points AS points FROM point_totals t JOIN point_boards b ON b.id = t.board_id"
    )
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_point_totals_top')
    op.drop_table('point_totals')
    op.create_table(
        'point_totals',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('period_key', sa.String(length=12), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_point_totals_member_id_members'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('member_id', 'period', 'period_key', 'scope', name=op.f('pk_point_totals')),
        sqlite_with_rowid=False,
    )
    op.execute(
        "INSERT INTO point_totals (member_id, period, period_key, scope, points) "
        "SELECT member_id, period, period_key, scope, points FROM point_totals_copy"
    )
    op.drop_table('point_totals_copy')
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.create_index(
            'ix_point_totals_top', ['period', 'period_key', 'scope', 'points', 'member_id'], unique=False
        )
    op.drop_table('point_boards')
