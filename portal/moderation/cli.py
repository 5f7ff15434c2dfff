"""``flask --app wsgi portal moderation ...``: run moderation's periodic work once."""

from __future__ import annotations

import click

from portal.moderation.services import trust

moderation = click.Group("moderation", help="Moderation: trust levels and other periodic work.")


@moderation.command("trust-recompute")
def trust_recompute() -> None:
    """Raise members' trust levels by their activity (run daily)."""
    risen = trust.recompute_trust_levels()
    click.echo(f"trust: {risen} member(s) moved up")
