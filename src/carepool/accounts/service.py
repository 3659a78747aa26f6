"""Local accounts, password checks and machine tokens.

Passwords are hashed with Argon2 and never stored or logged in the clear. API tokens are
random, shown once, and only their SHA-256 is kept, so a stolen database holds no usable token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from carepool.accounts import repository as repo
from carepool.accounts.repository import UserRow
from carepool.audit import repository as audit
from carepool.domain.errors import CarepoolError, Conflict
from carepool.domain.roles import Principal, Role, parse_grant, principal
from carepool.store.db import flush

_hasher = PasswordHasher()
_MIN_PASSWORD = 10


def create_user(
    session: Session,
    username: str,
    password: str,
    grants: Sequence[str],
    actor: Principal,
    display_name: str = "",
) -> UserRow:
    """Add a local account; grants are checked before anything is stored."""
    actor.require(Role.NATIONAL_ADMIN)
    checked = [str(parse_grant(g)) for g in grants]
    if len(password) < _MIN_PASSWORD:
        raise CarepoolError(f"a password must have at least {_MIN_PASSWORD} characters")
    if repo.find_user(session, username):
        raise Conflict(f"there is already a user called {username!r}")
    user = repo.add_user(
        session, username, display_name or username, _hasher.hash(password), checked
    )
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="user",
        entity_id=username,
        after={"grants": checked, "display_name": user.display_name},
    )
    return user


def deactivate_user(session: Session, username: str, actor: Principal) -> UserRow:
    """Stop an account signing in; its sessions and tokens stop working at their next use.

    The account is kept, not deleted, so the audit log's ``actor`` names stay meaningful.
    """
    actor.require(Role.NATIONAL_ADMIN)
    user = repo.find_user(session, username)
    if user is None:
        raise CarepoolError(f"there is no user called {username!r}")
    user.active = False
    flush(session)
    repo.revoke_web_sessions(session, _now(), username=username)
    audit.record(
        session,
        actor=actor.username,
        action="deactivate",
        entity="user",
        entity_id=username,
        before={"active": True},
        after={"active": False},
    )
    return user


def set_password(session: Session, username: str, password: str, actor: Principal) -> None:
    """Give an account a new password and end every session it has signed in with.

    A national admin may set anyone's password; anyone may set their own.
    """
    if actor.username != username:
        actor.require(Role.NATIONAL_ADMIN)
    if len(password) < _MIN_PASSWORD:
        raise CarepoolError(f"a password must have at least {_MIN_PASSWORD} characters")
    user = repo.find_user(session, username)
    if user is None:
        raise CarepoolError(f"there is no user called {username!r}")
    user.password_hash = _hasher.hash(password)
    flush(session)
    repo.revoke_web_sessions(session, _now(), username=username)
    audit.record(
        session,
        actor=actor.username,
        action="set_password",
        entity="user",
        entity_id=username,
    )


def authenticate(session: Session, username: str, password: str) -> Principal | None:
    """The user's principal if the password is right; ``None`` otherwise (no reason given)."""
    user = repo.find_user(session, username, active_only=True)
    if user is None:
        _hasher.hash(password)  # spend the same time as a real check, so names don't leak
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return as_principal(user)


def as_principal(user: UserRow) -> Principal:
    return principal(user.username, user.display_name, user.grants)


def find_user(session: Session, username: str) -> Principal | None:
    user = repo.find_user(session, username, active_only=True)
    return as_principal(user) if user else None


def create_token(session: Session, username: str, name: str, actor: Principal) -> str:
    """A new API token for ``username``; the returned text is the only copy."""
    actor.require(Role.NATIONAL_ADMIN)
    user = repo.find_user(session, username)
    if user is None:
        raise CarepoolError(f"no user called {username!r}")
    token = "cp_" + secrets.token_urlsafe(32)
    repo.add_token(session, user, name, _digest(token), dt.datetime.now(dt.UTC))
    audit.record(
        session,
        actor=actor.username,
        action="create",
        entity="api_token",
        entity_id=name,
        after={"user": username},
    )
    return token


def principal_for_token(session: Session, token: str) -> Principal | None:
    user = repo.token_user(session, _digest(token))
    return as_principal(user) if user and user.active else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start_web_session(session: Session, username: str) -> str:
    """A new random session id for ``username``, recorded (as its SHA-256) as live."""
    session_id = secrets.token_urlsafe(32)
    repo.add_web_session(session, _digest(session_id), username, _now())
    return session_id


def web_session_user(session: Session, session_id: str, max_age: dt.timedelta) -> str | None:
    """The username a session id was issued to, if it is live and younger than ``max_age``."""
    row = repo.live_web_session(session, _digest(session_id), _now() - max_age)
    return row.username if row else None


def end_web_session(session: Session, session_id: str) -> None:
    """Revoke one session: its cookie stops working everywhere at once."""
    repo.revoke_web_sessions(session, _now(), id_sha256=_digest(session_id))
