"""Moderation's migration matches its models: autogenerate finds nothing to add for moderation's tables and columns."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db
from portal.moderation import models

MODERATION_TABLES = {
    table.name
    for table in db.metadata.sorted_tables
    if table.name
    in {
        models.AuditEntry.__tablename__,
        models.QueueItem.__tablename__,
        models.Flag.__tablename__,
        models.TrustRecord.__tablename__,
        models.DailyUsage.__tablename__,
        models.WordRule.__tablename__,
        models.Sanction.__tablename__,
        models.ModeratorNote.__tablename__,
    }
}
MEMBER_COLUMNS = {"banned_until", "ban_reason", "warning_pending"}


def _concerns_moderation(diff: tuple) -> bool:
    text = repr(diff)
    return any(f"'{name}'" in text for name in MODERATION_TABLES) or any(f"'{c}'" in text for c in MEMBER_COLUMNS)


def test_the_migrated_schema_matches_moderations_models(db_session):
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    diffs = [d for d in compare_metadata(context, db.metadata) if _concerns_moderation(d)]
    assert len(MODERATION_TABLES) == 8
    assert diffs == []
