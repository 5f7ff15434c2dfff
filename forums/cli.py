"""Forum commands: ``flask portal forums digest``."""

from __future__ import annotations

import click

from forums import digest
from portal.db import db


@click.group("forums", help="Forum maintenance.")
def forums_cli() -> None:
    pass


@forums_cli.command("digest")
def digest_command() -> None:
    """Send the forum email digests that are due now."""
    sent = digest.send_digests()
    db.session.commit()
    click.echo(f"forums: {sent} digest(s) sent")
