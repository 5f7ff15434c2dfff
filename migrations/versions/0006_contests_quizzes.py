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

    op.create_table('quiz_banks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_quiz_banks_created_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_banks'))
    )
    with op.batch_alter_table('quiz_banks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_banks_created_by_id'), ['created_by_id'], unique=False)

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

    op.create_table('quiz_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('image', sa.JSON(), nullable=True),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('is_archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bank_id'], ['quiz_banks.id'], name=op.f('fk_quiz_questions_bank_id_quiz_banks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_questions'))
    )
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_questions_bank_id'), ['bank_id'], unique=False)

    op.create_table('quizzes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('bank_id', sa.Integer(), nullable=False),
    sa.Column('selection', sa.String(length=10), nullable=False),
    sa.Column('draw_count', sa.Integer(), nullable=False),
    sa.Column('fixed_question_ids', sa.JSON(), nullable=False),
    sa.Column('time_limit_seconds', sa.Integer(), nullable=False),
    sa.Column('attempts_allowed', sa.Integer(), nullable=False),
    sa.Column('pass_percent', sa.Integer(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pass_points', sa.Integer(), nullable=False),
    sa.Column('points_per_correct', sa.Integer(), nullable=False),
    sa.Column('layout', sa.String(length=5), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('attempts_allowed >= 1', name=op.f('ck_quizzes_attempts_positive')),
    sa.CheckConstraint('pass_percent BETWEEN 0 AND 100', name=op.f('ck_quizzes_pass_percent_range')),
    sa.CheckConstraint('time_limit_seconds >= 10', name=op.f('ck_quizzes_time_limit_sane')),
    sa.ForeignKeyConstraint(['bank_id'], ['quiz_banks.id'], name=op.f('fk_quizzes_bank_id_quiz_banks'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_quizzes_created_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quizzes'))
    )
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quizzes_bank_id'), ['bank_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quizzes_closes_at'), ['closes_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quizzes_created_by_id'), ['created_by_id'], unique=False)

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

    op.create_table('quiz_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('correct_count', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('score_percent', sa.Integer(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_quiz_attempts_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_attempts_quiz_id_quizzes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_attempts')),
    sa.UniqueConstraint('quiz_id', 'member_id', 'number', name=op.f('uq_quiz_attempts_number'))
    )
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_attempts_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_quiz_attempts_open', ['submitted_at', 'deadline_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_attempts_quiz_id'), ['quiz_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_attempts_score_percent'), ['score_percent'], unique=False)

    op.create_table('quiz_live_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quiz_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('question_ids', sa.JSON(), nullable=False),
    sa.Column('option_order', sa.JSON(), nullable=False),
    sa.Column('current_index', sa.Integer(), nullable=False),
    sa.Column('question_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seconds_per_question', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['host_id'], ['members.id'], name=op.f('fk_quiz_live_sessions_host_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quiz_id'], ['quizzes.id'], name=op.f('fk_quiz_live_sessions_quiz_id_quizzes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_live_sessions'))
    )
    with op.batch_alter_table('quiz_live_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_live_sessions_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_live_sessions_host_id'), ['host_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_live_sessions_quiz_id'), ['quiz_id'], unique=False)

    op.create_table('quiz_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('is_correct', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_options_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_options'))
    )
    with op.batch_alter_table('quiz_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_options_question_id'), ['question_id'], unique=False)

    op.create_table('quiz_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('option_ids', sa.JSON(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('is_correct', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempts.id'], name=op.f('fk_quiz_answers_attempt_id_quiz_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_answers_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_answers')),
    sa.UniqueConstraint('attempt_id', 'question_id', name=op.f('uq_quiz_answers_question'))
    )
    with op.batch_alter_table('quiz_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_answers_attempt_id'), ['attempt_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_answers_question_id'), ['question_id'], unique=False)

    op.create_table('quiz_live_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('option_ids', sa.JSON(), nullable=False),
    sa.Column('is_correct', sa.Boolean(), nullable=False),
    sa.Column('response_ms', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_quiz_live_answers_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['quiz_questions.id'], name=op.f('fk_quiz_live_answers_question_id_quiz_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['quiz_live_sessions.id'], name=op.f('fk_quiz_live_answers_session_id_quiz_live_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_live_answers')),
    sa.UniqueConstraint('session_id', 'question_id', 'member_id', name=op.f('uq_quiz_live_answers_player'))
    )
    with op.batch_alter_table('quiz_live_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_live_answers_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_live_answers_question_id'), ['question_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_live_answers_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('quiz_live_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_live_answers_session_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_live_answers_question_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_live_answers_member_id'))

    op.drop_table('quiz_live_answers')
    with op.batch_alter_table('quiz_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_answers_question_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_answers_attempt_id'))

    op.drop_table('quiz_answers')
    with op.batch_alter_table('quiz_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_options_question_id'))

    op.drop_table('quiz_options')
    with op.batch_alter_table('quiz_live_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_live_sessions_quiz_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_live_sessions_host_id'))
        batch_op.drop_index(batch_op.f('ix_quiz_live_sessions_created_at'))

    op.drop_table('quiz_live_sessions')
    with op.batch_alter_table('quiz_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_score_percent'))
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_quiz_id'))
        batch_op.drop_index('ix_quiz_attempts_open')
        batch_op.drop_index(batch_op.f('ix_quiz_attempts_member_id'))

    op.drop_table('quiz_attempts')
    with op.batch_alter_table('contest_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_votes_voter_id'))
        batch_op.drop_index(batch_op.f('ix_contest_votes_entry_id'))
        batch_op.drop_index(batch_op.f('ix_contest_votes_contest_id'))

    op.drop_table('contest_votes')
    with op.batch_alter_table('quizzes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quizzes_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_quizzes_closes_at'))
        batch_op.drop_index(batch_op.f('ix_quizzes_bank_id'))

    op.drop_table('quizzes')
    with op.batch_alter_table('quiz_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_questions_bank_id'))

    op.drop_table('quiz_questions')
    with op.batch_alter_table('contest_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_entries_member_id'))
        batch_op.drop_index(batch_op.f('ix_contest_entries_final_rank'))
        batch_op.drop_index(batch_op.f('ix_contest_entries_created_at'))
        batch_op.drop_index('ix_contest_entries_contest_status')
        batch_op.drop_index(batch_op.f('ix_contest_entries_contest_id'))

    op.drop_table('contest_entries')
    with op.batch_alter_table('quiz_banks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_banks_created_by_id'))

    op.drop_table('quiz_banks')
    with op.batch_alter_table('contests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contests_voting_close_at'))
        batch_op.drop_index(batch_op.f('ix_contests_created_by_id'))

    op.drop_table('contests')
