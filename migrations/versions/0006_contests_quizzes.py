"""photo contests and quizzes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('contests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title_fa', sa.String(length=200), nullable=False),
    sa.Column('title_en', sa.String(length=200), nullable=False),
    sa.Column('theme_fa', sa.String(length=300), nullable=False),
    sa.Column('theme_en', sa.String(length=300), nullable=False),
    sa.Column('rules', sa.Text(), nullable=False),
    sa.Column('prizes', sa.JSON(), nullable=False),
    sa.Column('participation_points', sa.Integer(), nullable=False),
    sa.Column('submissions_open_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submissions_close_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voting_open_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voting_close_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entries_per_member', sa.Integer(), nullable=False),
    sa.Column('voting_mode', sa.String(length=10), nullable=False),
    sa.Column('min_tier_to_enter', sa.String(length=40), nullable=True),
    sa.Column('min_tier_to_vote', sa.String(length=40), nullable=True),
    sa.Column('premoderate', sa.Boolean(), nullable=False),
    sa.Column('hide_counts', sa.Boolean(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("voting_mode IN ('single', 'stars')", name=op.f('ck_contests_voting_mode_known')),
    sa.CheckConstraint('entries_per_member >= 1', name=op.f('ck_contests_entries_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_contests_created_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contests'))
    )
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contests_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contests_voting_close_at'), ['voting_close_at'], unique=False)

    op.create_table('contest_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('caption', sa.String(length=300), nullable=False),
    sa.Column('image', sa.JSON(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('final_rank', sa.Integer(), nullable=True),
    sa.Column('final_score', sa.Integer(), nullable=True),
    sa.Column('final_votes', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_contest_entries_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_contest_entries_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_entries'))
    )
    with op.batch_alter_table('contest_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_entries_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index('ix_contest_entries_contest_status', ['contest_id', 'status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_entries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_entries_final_rank'), ['final_rank'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_entries_member_id'), ['member_id'], unique=False)

    op.create_table('contest_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('voter_id', sa.Integer(), nullable=False),
    sa.Column('ballot', sa.Integer(), nullable=False),
    sa.Column('stars', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('stars BETWEEN 1 AND 5', name=op.f('ck_contest_votes_stars_range')),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_contest_votes_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['entry_id'], ['contest_entries.id'], name=op.f('fk_contest_votes_entry_id_contest_entries'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['voter_id'], ['members.id'], name=op.f('fk_contest_votes_voter_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_votes')),
    sa.UniqueConstraint('contest_id', 'voter_id', 'ballot', name=op.f('uq_contest_votes_ballot'))
    )
    with op.batch_alter_table('contest_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_votes_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_votes_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_votes_voter_id'), ['voter_id'], unique=False)


def downgrade():
    with op.batch_alter_table('contest_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_votes_voter_id'))
        batch_op.drop_index(batch_op.f('ix_contest_votes_entry_id'))
        batch_op.drop_index(batch_op.f('ix_contest_votes_contest_id'))

    op.drop_table('contest_votes')
    with op.batch_alter_table('contest_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_entries_member_id'))
        batch_op.drop_index(batch_op.f('ix_contest_entries_final_rank'))
        batch_op.drop_index(batch_op.f('ix_contest_entries_created_at'))
        batch_op.drop_index('ix_contest_entries_contest_status')
        batch_op.drop_index(batch_op.f('ix_contest_entries_contest_id'))

    op.drop_table('contest_entries')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contests_voting_close_at'))
        batch_op.drop_index(batch_op.f('ix_contests_created_by_id'))

    op.drop_table('contests')
