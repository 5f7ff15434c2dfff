"""``flask --app wsgi portal user ...``: accounts from the command line."""

from __future__ import annotations

import secrets

import click

from portal.accounts import services
from portal.accounts.models import ROLE_VALUES
from portal.db import db
from portal.errors import DomainError

user = click.Group("user", help="Create members and change their roles.")


@user.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLE_VALUES), default="member", show_default=True)
@click.option("--name", "display_name", default=None, help="Display name (defaults to the part before @).")
@click.option("--password", default=None, help="Password; a random one is generated and printed if omitted.")
def create_user(email: str, role: str, display_name: str | None, password: str | None) -> None:
    """Create a verified account with the given role."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    try:
        member = services.create_member_cli(
            email=email, password=password, display_name=display_name or email.split("@")[0], role=role
        )
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"created {member.email} (id {member.id}, role {member.role})")
    if generated:
        click.echo(f"password: {password}")


@user.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLE_VALUES))
def set_role(email: str, role: str) -> None:
    """Change the role of an existing account."""
    member = services.member_by_email(email)
    if member is None:
        raise click.ClickException(f"no account with email {email}")
    try:
        services.set_role(actor=None, member=member, role=role)
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc.message)) from exc
    db.session.commit()
    click.echo(f"{member.email} is now {role}")
