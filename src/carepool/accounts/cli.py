"""``carepool users``: local accounts and API tokens."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from carepool.accounts import service as accounts
from carepool.cli.common import (
    err,
    work,
)
from carepool.domain.roles import SYSTEM

users_app = typer.Typer(help="Local accounts and API tokens.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: str,
    role: Annotated[list[str], typer.Option("--role", help="Grant, e.g. area_editor:E06000052.")],
    name: Annotated[str, typer.Option(help="Display name.")] = "",
) -> None:
    """Add a local account; the password is read from standard input or asked for."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    with work() as session:
        accounts.create_user(session, username, password, role, SYSTEM, name)
    err.print(f"Added {username} with roles {', '.join(role)}")


@users_app.command("token")
def users_token(
    username: str, name: Annotated[str, typer.Option(help="What it is for.")] = "api"
) -> None:
    """Create an API token for a user; it is printed once and only its hash is kept."""
    with work() as session:
        token = accounts.create_token(session, username, name, SYSTEM)
    print(token)


@users_app.command("password")
def users_password(username: str) -> None:
    """Set a user's password (read from standard input or asked for); every session the
    account has signed in with ends at once."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    with work() as session:
        accounts.set_password(session, username, password, SYSTEM)
    err.print(f"Set a new password for {username}; its sessions have ended")


@users_app.command("deactivate")
def users_deactivate(username: str) -> None:
    """Stop an account signing in; its sessions end at once and its tokens stop working."""
    with work() as session:
        accounts.deactivate_user(session, username, SYSTEM)
    err.print(f"Deactivated {username}")
