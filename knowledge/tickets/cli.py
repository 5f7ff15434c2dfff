"""``flask portal tickets ...``: run the help desk's periodic jobs once."""

from __future__ import annotations

import click

from knowledge.tickets import jobs


@click.group("tickets", help="Help desk commands.")
def tickets() -> None:
    pass


@tickets.command("sla-check")
def sla_check() -> None:
    """Warn assignees of tickets near their SLA deadline and mark breaches (run every 5 minutes)."""
    result = jobs.check_sla()
    click.echo(f"tickets: {result['warned']} warned, {result['breached']} breached")


@tickets.command("close-resolved")
def close_resolved() -> None:
    """Close resolved tickets whose reopen window has passed (run hourly)."""
    click.echo(f"tickets: {jobs.close_resolved_tickets()} closed")
