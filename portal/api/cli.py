"""``flask --app wsgi portal api-key ...`` and ``portal webhooks retry``: the integration from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa

from portal.api import queries, services, webhooks
from portal.api.models import SCOPES, ApiKey
from portal.db import db
from portal.errors import DomainError

api_key = click.Group("api-key", help="Create, list and revoke API keys.")


@api_key.command("create")
@click.argument("name")
@click.option(
    "--scopes",
    "scopes",
    multiple=True,
    required=True,
    help=f"Scopes, comma- or space-separated, or the option repeated. Known: {', '.join(SCOPES)}.",
)
def create_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key; its plaintext is printed once and never stored."""
    try:
        created = services.create_api_key(actor=None, name=name, scopes=scopes)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"created key {created.key.id} {created.key.name!r} with scopes {','.join(created.key.scopes)}")
    click.echo("store it now, it is not shown again:")
    click.echo(created.plaintext)


@api_key.command("list")
def list_keys() -> None:
    """List the keys (prefix, scopes, last use, state)."""
    for key in queries.list_api_keys():
        state = "active" if key.is_active else f"revoked {key.revoked_at:%Y-%m-%d}"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never used"
        click.echo(f"{key.id}\t{key.prefix}…\t{key.name}\t{','.join(key.scopes)}\t{used}\t{state}")


@api_key.command("revoke")
@click.argument("key")
def revoke_key(key: str) -> None:
    """Revoke a key, named by its id or the prefix shown by ``list``."""
    stmt = sa.select(ApiKey).where(ApiKey.id == int(key)) if key.isdigit() else None
    if stmt is None:
        stmt = sa.select(ApiKey).where(ApiKey.prefix == key.rstrip("…"))
    found = list(db.session.scalars(stmt))
    if len(found) != 1:
        raise click.ClickException(f"no single key matches {key!r}")
    services.revoke_api_key(actor=None, key=found[0])
    db.session.commit()
    click.echo(f"revoked key {found[0].id} {found[0].name!r}")


webhooks_cli = click.Group("webhooks", help="Webhook deliveries.")


@webhooks_cli.command("retry")
def retry() -> None:
    """Send the deliveries whose next try is due (run it every minute)."""
    count = webhooks.retry_due_deliveries()
    click.echo(f"webhooks: {count} deliveries tried")
