"""forums: each shown post's ordinal among its topic's shown posts, for full pages

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 12:40:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ordinal', sa.Integer(), nullable=True))
        batch_op.create_index('ix_forum_posts_topic_ordinal', ['topic_id', 'ordinal'], unique=False)
    # Existing shown posts are numbered in position order; the opening post always counts (its
    # topic's status decides whether anyone sees it), the other posts only when visible.
    op.execute(
        "UPDATE forum_posts SET ordinal = ("
        " SELECT count(*) FROM forum_posts AS earlier"
        " WHERE earlier.topic_id = forum_posts.topic_id AND earlier.position <= forum_posts.position"
        " AND (earlier.status = 'visible' OR earlier.position = 1))"
        " WHERE status = 'visible' OR position = 1"
    )


def downgrade():
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_index('ix_forum_posts_topic_ordinal')
        batch_op.drop_column('ordinal')
