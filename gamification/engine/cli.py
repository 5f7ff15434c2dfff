"""``flask --app wsgi portal points ...``: verify balances and run the engine's jobs once."""

from __future__ import annotations

import click

from gamification.engine import ledger, tasks
from portal.db import db

points = click.Group("points", help="The points engine: verify balances, run its jobs.")


@points.command("verify")
@click.option("--fix", is_flag=True, help="Set every differing balance to what the ledger says.")
def verify(fix: bool) -> None:
    """Rebuild every balance from the ledger and report the differences."""
    differences = ledger.verify_balances(fix=fix)
    for diff in differences:
        click.echo(f"member {diff.member_id}: {diff.column} stored {diff.stored}, ledger {diff.from_ledger}")
    if fix:
        db.session.commit()
    else:
        db.session.rollback()
    click.echo(f"points verify: {len(differences)} difference(s){' fixed' if fix and differences else ''}")
    if differences and not fix:
        raise SystemExit(1)


@points.command("release")
def release() -> None:
    """Make purchase points past their return window spendable."""
    click.echo(f"released {tasks.release_pending_points()} entries")


@points.command("expire")
def expire() -> None:
    """Warn about points expiring soon, then expire those past their date."""
    click.echo(f"warned {tasks.warn_expiring_points()} members")
    click.echo(f"expired {tasks.expire_points()} points")


@points.command("tiers")
def tiers() -> None:
    """Age qualifying points and move members between tiers (the nightly job)."""
    click.echo(f"tiers: {tasks.nightly_tiers()}")
