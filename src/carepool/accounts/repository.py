"""All database access for local accounts and their API tokens.

Only hashes are handed to this module: the password's Argon2 hash and the token's SHA-256.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from carepool.store.models import ApiTokenRow, UserRow

__all__ = ["UserRow", "add_token", "add_user", "find_user", "token_user"]


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
