"""``flask --app wsgi portal contests ...``: running the contest jobs once from the command line."""

from __future__ import annotations

import click

from gamification.contests import jobs

contests = click.Group("contests", help="Photo contests.")


@contests.command("close-due")
def close_due() -> None:
    """Compute, store and announce the results of every contest whose voting has ended."""
    closed = jobs.close_due_contests()
    click.echo(f"contests: {closed} closed")
