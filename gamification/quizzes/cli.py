"""``flask --app wsgi portal quizzes ...``: running the quiz jobs once from the command line."""

from __future__ import annotations

import click

from gamification.quizzes import jobs

quizzes = click.Group("quizzes", help="Quizzes.")


@quizzes.command("finish-expired")
def finish_expired() -> None:
    """Score every attempt whose time ran out without a submission."""
    finished = jobs.finish_expired_attempts()
    click.echo(f"quizzes: {finished} expired attempts scored")
