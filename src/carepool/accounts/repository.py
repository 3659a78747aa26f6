"""All database access for local accounts and their API tokens.

Only hashes are handed to this module: the password's Argon2 hash and the token's SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from carepool.store.models import ApiTokenRow, UserRow, WebSessionRow

__all__ = [
    "UserRow",
    "add_token",
    "add_user",
    "add_web_session",
    "find_user",
    "live_web_session",
    "revoke_web_sessions",
    "token_user",
]


def find_user(session: Session, username: str, *, active_only: bool = False) -> UserRow | None:
    query = select(UserRow).filter_by(username=username)
    if active_only:
        query = query.filter_by(active=True)
    return session.scalars(query).first()


def add_user(
    session: Session, username: str, display_name: str, password_hash: str, grants: Sequence[str]
) -> UserRow:
    user = UserRow(
        username=username,
        display_name=display_name,
        password_hash=password_hash,
        grants=list(grants),
    )
    session.add(user)
    session.flush()
    return user


def add_token(
    session: Session, user: UserRow, name: str, token_sha256: str, at: dt.datetime
) -> None:
    session.add(ApiTokenRow(user_id=user.id, name=name, token_sha256=token_sha256, created_at=at))


def token_user(session: Session, token_sha256: str) -> UserRow | None:
    """The account a token was issued to, whether or not it is still active."""
    row = session.scalars(select(ApiTokenRow).filter_by(token_sha256=token_sha256)).first()
    if row is None:
        return None
    return session.get(UserRow, row.user_id)


def add_web_session(session: Session, id_sha256: str, username: str, at: dt.datetime) -> None:
    session.add(WebSessionRow(id_sha256=id_sha256, username=username, created_at=at))


def live_web_session(session: Session, id_sha256: str, since: dt.datetime) -> WebSessionRow | None:
    """The session if it exists, is not revoked and was made after ``since``."""
    row = session.get(WebSessionRow, id_sha256)
    if row is None or row.revoked_at is not None:
        return None
    created = row.created_at
    if created.tzinfo is None:  # SQLite hands back naive datetimes
        created = created.replace(tzinfo=dt.UTC)
    return row if created > since else None


def revoke_web_sessions(
    session: Session,
    at: dt.datetime,
    *,
    username: str | None = None,
    id_sha256: str | None = None,
) -> None:
    """Revoke one session (by ``id_sha256``) or every session of ``username``."""
    query = update(WebSessionRow).where(WebSessionRow.revoked_at.is_(None))
    if id_sha256 is not None:
        query = query.where(WebSessionRow.id_sha256 == id_sha256)
    if username is not None:
        query = query.where(WebSessionRow.username == username)
    session.execute(query.values(revoked_at=at))
