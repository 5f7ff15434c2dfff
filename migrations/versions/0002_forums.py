"""forums: categories, topics, posts, likes, follows, polls, unread state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 09:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('forum_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('icon', sa.String(length=16), nullable=False),
    sa.Column('colour', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('allowed_roles', sa.JSON(), nullable=False),
    sa.Column('min_tier', sa.String(length=40), nullable=True),
    sa.Column('topic_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('post_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_topic_id', sa.Integer(), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['forum_categories.id'], name=op.f('fk_forum_categories_parent_id_forum_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_categories'))
    )
    with op.batch_alter_table('forum_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_categories_last_topic_id'), ['last_topic_id'], unique=False)
        batch_op.create_index('ix_forum_categories_parent_position', ['parent_id', 'position', 'id'], unique=False)

    op.create_table('search_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('doc_id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('language', sa.String(length=8), server_default='', nullable=False),
    sa.Column('category', sa.String(length=64), server_default='', nullable=False),
    sa.Column('category_label', sa.String(length=200), server_default='', nullable=False),
    sa.Column('author', sa.String(length=64), server_default='', nullable=False),
    sa.Column('author_name', sa.String(length=200), server_default='', nullable=False),
    sa.Column('context', sa.String(length=300), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_documents')),
    sa.UniqueConstraint('kind', 'doc_id', name=op.f('uq_search_documents_kind_doc_id'))
    )
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_documents_created_at'), ['created_at'], unique=False)

    op.create_table('forum_category_follows',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['forum_categories.id'], name=op.f('fk_forum_category_follows_category_id_forum_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_category_follows_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', 'member_id', name=op.f('pk_forum_category_follows'))
    )
    with op.batch_alter_table('forum_category_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_category_follows_member_id'), ['member_id'], unique=False)

    op.create_table('forum_digest_preferences',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('frequency', sa.String(length=10), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_digest_preferences_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_forum_digest_preferences'))
    )
    op.create_table('forum_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('is_pinned', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_locked', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('is_closed', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('has_poll', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('reply_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('view_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('post_seq', sa.Integer(), server_default='0', nullable=False),
    sa.Column('first_post_id', sa.Integer(), nullable=True),
    sa.Column('last_post_id', sa.Integer(), nullable=True),
    sa.Column('last_poster_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_post_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('visible', 'held', 'hidden', 'deleted')", name=op.f('ck_forum_topics_status_known')),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_forum_topics_author_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['category_id'], ['forum_categories.id'], name=op.f('fk_forum_topics_category_id_forum_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['last_poster_id'], ['members.id'], name=op.f('fk_forum_topics_last_poster_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_topics'))
    )
    with op.batch_alter_table('forum_topics', schema=None) as batch_op:
        batch_op.create_index('ix_forum_topics_activity', ['status', 'last_post_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_forum_topics_category_activity', ['category_id', 'status', 'is_pinned', 'last_post_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_first_post_id'), ['first_post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_last_post_id'), ['last_post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_topics_last_poster_id'), ['last_poster_id'], unique=False)

    op.create_table('forum_polls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=300), nullable=False),
    sa.Column('multiple', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voter_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['forum_topics.id'], name=op.f('fk_forum_polls_topic_id_forum_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_polls')),
    sa.UniqueConstraint('topic_id', name=op.f('uq_forum_polls_topic_id'))
    )
    op.create_table('forum_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('quoted_post_id', sa.Integer(), nullable=True),
    sa.Column('like_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('edit_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('edited_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('visible', 'held', 'hidden', 'deleted')", name=op.f('ck_forum_posts_status_known')),
    sa.ForeignKeyConstraint(['author_id'], ['members.id'], name=op.f('fk_forum_posts_author_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['quoted_post_id'], ['forum_posts.id'], name=op.f('fk_forum_posts_quoted_post_id_forum_posts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['topic_id'], ['forum_topics.id'], name=op.f('fk_forum_posts_topic_id_forum_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_posts')),
    sa.UniqueConstraint('topic_id', 'position', name=op.f('uq_forum_posts_topic_id_position'))
    )
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.create_index('ix_forum_posts_author_created', ['author_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_quoted_post_id'), ['quoted_post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_topic_id'), ['topic_id'], unique=False)

    op.create_table('forum_topic_follows',
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_topic_follows_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['forum_topics.id'], name=op.f('fk_forum_topic_follows_topic_id_forum_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('topic_id', 'member_id', name=op.f('pk_forum_topic_follows'))
    )
    with op.batch_alter_table('forum_topic_follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_topic_follows_member_id'), ['member_id'], unique=False)

    op.create_table('forum_topic_reads',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('last_position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_topic_reads_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_id'], ['forum_topics.id'], name=op.f('fk_forum_topic_reads_topic_id_forum_topics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'topic_id', name=op.f('pk_forum_topic_reads'))
    )
    with op.batch_alter_table('forum_topic_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_topic_reads_topic_id'), ['topic_id'], unique=False)

    op.create_table('forum_poll_options',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('vote_count', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['poll_id'], ['forum_polls.id'], name=op.f('fk_forum_poll_options_poll_id_forum_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_poll_options'))
    )
    with op.batch_alter_table('forum_poll_options', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_poll_options_poll_id'), ['poll_id'], unique=False)

    op.create_table('forum_post_likes',
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_post_likes_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_post_likes_post_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('post_id', 'member_id', name=op.f('pk_forum_post_likes'))
    )
    with op.batch_alter_table('forum_post_likes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_post_likes_member_id'), ['member_id'], unique=False)

    op.create_table('forum_post_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('editor_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['editor_id'], ['members.id'], name=op.f('fk_forum_post_revisions_editor_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_post_revisions_post_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_post_revisions'))
    )
    with op.batch_alter_table('forum_post_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_post_revisions_editor_id'), ['editor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_post_revisions_post_id'), ['post_id'], unique=False)

    op.create_table('forum_poll_votes',
    sa.Column('option_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('poll_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_forum_poll_votes_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['option_id'], ['forum_poll_options.id'], name=op.f('fk_forum_poll_votes_option_id_forum_poll_options'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['poll_id'], ['forum_polls.id'], name=op.f('fk_forum_poll_votes_poll_id_forum_polls'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('option_id', 'member_id', name=op.f('pk_forum_poll_votes'))
    )
    with op.batch_alter_table('forum_poll_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_poll_votes_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_forum_poll_votes_poll_member', ['poll_id', 'member_id'], unique=False)

    # The PostgreSQL search backend matches on a tsvector of the analysed terms (see portal/search.py);
    # SQLite has no such type and uses the Whoosh backend, so the column exists only on PostgreSQL.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE search_documents ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED"
        )
        op.execute("CREATE INDEX ix_search_documents_tsv ON search_documents USING gin (tsv)")



def downgrade():
    with op.batch_alter_table('forum_poll_votes', schema=None) as batch_op:
        batch_op.drop_index('ix_forum_poll_votes_poll_member')
        batch_op.drop_index(batch_op.f('ix_forum_poll_votes_member_id'))

    op.drop_table('forum_poll_votes')
    with op.batch_alter_table('forum_post_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_post_revisions_post_id'))
        batch_op.drop_index(batch_op.f('ix_forum_post_revisions_editor_id'))

    op.drop_table('forum_post_revisions')
    with op.batch_alter_table('forum_post_likes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_post_likes_member_id'))

    op.drop_table('forum_post_likes')
    with op.batch_alter_table('forum_poll_options', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_poll_options_poll_id'))

    op.drop_table('forum_poll_options')
    with op.batch_alter_table('forum_topic_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_topic_reads_topic_id'))

    op.drop_table('forum_topic_reads')
    with op.batch_alter_table('forum_topic_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_topic_follows_member_id'))

    op.drop_table('forum_topic_follows')
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_posts_topic_id'))
        batch_op.drop_index(batch_op.f('ix_forum_posts_quoted_post_id'))
        batch_op.drop_index(batch_op.f('ix_forum_posts_created_at'))
        batch_op.drop_index(batch_op.f('ix_forum_posts_author_id'))
        batch_op.drop_index('ix_forum_posts_author_created')

    op.drop_table('forum_posts')
    op.drop_table('forum_polls')
    with op.batch_alter_table('forum_topics', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_topics_last_poster_id'))
        batch_op.drop_index(batch_op.f('ix_forum_topics_last_post_id'))
        batch_op.drop_index(batch_op.f('ix_forum_topics_first_post_id'))
        batch_op.drop_index(batch_op.f('ix_forum_topics_created_at'))
        batch_op.drop_index(batch_op.f('ix_forum_topics_category_id'))
        batch_op.drop_index('ix_forum_topics_category_activity')
        batch_op.drop_index(batch_op.f('ix_forum_topics_author_id'))
        batch_op.drop_index('ix_forum_topics_activity')

    op.drop_table('forum_topics')
    op.drop_table('forum_digest_preferences')
    with op.batch_alter_table('forum_category_follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_category_follows_member_id'))

    op.drop_table('forum_category_follows')
    with op.batch_alter_table('search_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_documents_created_at'))

    op.drop_table('search_documents')
    with op.batch_alter_table('forum_categories', schema=None) as batch_op:
        batch_op.drop_index('ix_forum_categories_parent_position')
        batch_op.drop_index(batch_op.f('ix_forum_categories_last_topic_id'))

    op.drop_table('forum_categories')

