"""point totals by scope: a member's all-time, month and week points in one row per scope

A change to a member's totals was three rows (all time, month, week), each a new row version with
two index entries on PostgreSQL. One row per (member, scope) holds the three periods: one row
version and one primary-key probe, with an index per leaderboard. The month and the week are kept
with the key of the period they count (``140509``, ``20261121``); of several months or weeks a
member has totals for, the newest is kept, the only one a leaderboard shows. ``point_boards`` goes.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-24 05:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

COLUMNS = ['member_id', 'scope', 'points', 'month_key', 'month_points', 'week_key', 'week_points']
SLOTS = {'month': 1, 'week': 3}


def _key_number(key):
    digits = key.lstrip('w').replace('-', '')
    return int(digits) if digits.isdigit() else 0


def _scope_number(scope):
    return int(scope[1:]) if scope.startswith('c') else 0


def _insert(table, rows):
    for start in range(0, len(rows), 5000):
        op.get_bind().execute(table.insert(), rows[start:start + 5000])


def upgrade():
    old = op.get_bind().execute(sa.text(
        "SELECT t.member_id, b.period, b.period_key, b.scope, t.points FROM point_totals t "
        "JOIN point_boards b ON b.id = t.board_id"
    )).all()
    merged = {}
    for member_id, period, key, scope, points in old:
        row = merged.setdefault((member_id, _scope_number(scope)), [0, 0, 0, 0, 0])
        slot = SLOTS.get(period)
        if slot is None:
            row[0] += points
        elif _key_number(key) > row[slot]:
            row[slot], row[slot + 1] = _key_number(key), points
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_point_totals_top')
    op.drop_table('point_totals')
    op.drop_table('point_boards')
    table = op.create_table(
        'point_totals',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.Integer(), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('month_key', sa.Integer(), nullable=False),
        sa.Column('month_points', sa.Integer(), nullable=False),
        sa.Column('week_key', sa.Integer(), nullable=False),
        sa.Column('week_points', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ['member_id'], ['members.id'], name=op.f('fk_point_totals_member_id_members'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('member_id', 'scope', name=op.f('pk_point_totals')),
        sqlite_with_rowid=False,
    )
    _insert(table, [dict(zip(COLUMNS, (*key, *row))) for key, row in sorted(merged.items())])
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.create_index('ix_point_totals_all', ['scope', 'points', 'member_id'], unique=False)
        batch_op.create_index(
            'ix_point_totals_month', ['scope', 'month_key', 'month_points', 'member_id'], unique=False
        )
        batch_op.create_index('ix_point_totals_week', ['scope', 'week_key', 'week_points', 'member_id'], unique=False)


def _month_text(number):
    return f'{number // 100:04d}-{number % 100:02d}'


def _week_text(number):
    return f'w{number // 10000:04d}-{number // 100 % 100:02d}-{number % 100:02d}'


def downgrade():
    rows = op.get_bind().execute(sa.text(f"SELECT {', '.join(COLUMNS)} FROM point_totals")).all()
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.drop_index('ix_point_totals_week')
        batch_op.drop_index('ix_point_totals_month')
        batch_op.drop_index('ix_point_totals_all')
    op.drop_table('point_totals')
    boards_table = op.create_table(
        'point_boards',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=8), nullable=False),
        sa.Column('period_key', sa.String(length=12), nullable=False),
        sa.Column('scope', sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_point_boards')),
        sa.UniqueConstraint('period', 'period_key', 'scope', name=op.f('uq_point_boards_period_period_key_scope')),
    )
    totals_table = op.create_table(
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
    kept = []
    for member_id, scope, points, month_key, month_points, week_key, week_points in rows:
        scope_text = f'c{scope}' if scope else ''
        kept.append((member_id, 'all', 'all', scope_text, points))
        if month_key:
            kept.append((member_id, 'month', _month_text(month_key), scope_text, month_points))
        if week_key:
            kept.append((member_id, 'week', _week_text(week_key), scope_text, week_points))
    _insert(boards_table, [
        {'period': period, 'period_key': key, 'scope': scope} for period, key, scope in sorted({k[1:4] for k in kept})
    ])
    boards = {
        (period, key, scope): board_id
        for board_id, period, key, scope in op.get_bind().execute(
            sa.text("SELECT id, period, period_key, scope FROM point_boards")
        )
    }
    _insert(totals_table, [
        {'member_id': member_id, 'board_id': boards[(period, key, scope)], 'points': points}
        for member_id, period, key, scope, points in kept
    ])
    with op.batch_alter_table('point_totals', schema=None) as batch_op:
        batch_op.create_index('ix_point_totals_top', ['board_id', 'points', 'member_id'], unique=False)
