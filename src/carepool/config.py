"""Configuration from environment variables, with safe defaults for a laptop.

``CAREPOOL_DATABASE_URL``  where data lives; default a SQLite file ``carepool.db`` in the
                           working directory. PostgreSQL: ``postgresql+psycopg://user@host/db``.
``CAREPOOL_SECRET_KEY``    signs web sessions and derives their CSRF tokens. If unset, one is
                           generated on first use and kept in ``.carepool/secret_key`` beside
                           the database (never committed).
``CAREPOOL_HOST``/``_PORT`` where ``carepool serve`` listens; default 127.0.0.1:8000.
``CAREPOOL_SECURE_COOKIES`` ``true`` marks session cookies Secure: set it whenever the
                           service is reached over HTTPS. Default false (plain local HTTP).
``CAREPOOL_TRUSTED_PROXIES`` comma-separated addresses of reverse proxies whose
                           ``X-Forwarded-For`` ``carepool serve`` believes. Default none: the
                           client address is the one the connection came from, so nobody can
                           dodge the sign-in limits by sending that header.
``CAREPOOL_DATA_DIR``      where pseudonymised person-level data directories live; default
                           ``.carepool/data`` in the working directory (never committed).
``CAREPOOL_PSEUDONYM_KEY`` the key NHS numbers are pseudonymised with (see ``pseudonym_key``).
``CAREPOOL_AUDIT_KEY``     the key the audit log's hashes are made with (see ``audit_key``).
``CAREPOOL_CONTACT_EMAIL`` the address the Contact page publishes (read by
                           :mod:`carepool.web.about`); none is assumed.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATABASE_URL = "sqlite:///carepool.db"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str
    secret_key: str
    host: str
    port: int
    secure_cookies: bool
    data_dir: Path
    trusted_proxies: tuple[str, ...] = ()


def database_url() -> str:
    return os.environ.get("CAREPOOL_DATABASE_URL") or DEFAULT_DATABASE_URL


def secret_key(state_dir: Path | None = None) -> str:
    """The session-signing key: from the environment, else a locally kept generated one."""
    return _kept_key("CAREPOOL_SECRET_KEY", "secret_key", state_dir)


def settings() -> Settings:
    return Settings(
        database_url=database_url(),
        secret_key=secret_key(),
        host=os.environ.get("CAREPOOL_HOST", "127.0.0.1"),
        port=int(os.environ.get("CAREPOOL_PORT", "8000")),
        secure_cookies=os.environ.get("CAREPOOL_SECURE_COOKIES", "").lower()
        in {"1", "true", "yes"},
        data_dir=Path(os.environ.get("CAREPOOL_DATA_DIR") or Path.cwd() / ".carepool" / "data"),
        trusted_proxies=trusted_proxies(),
    )


def trusted_proxies() -> tuple[str, ...]:
    """The proxies whose ``X-Forwarded-For`` is believed (``CAREPOOL_TRUSTED_PROXIES``)."""
    configured = os.environ.get("CAREPOOL_TRUSTED_PROXIES", "")
    return tuple(part.strip() for part in configured.split(",") if part.strip())


def pseudonym_key(state_dir: Path | None = None) -> bytes:
    """The key NHS numbers are pseudonymised with: from ``CAREPOOL_PSEUDONYM_KEY``, else a
    generated one kept in ``.carepool/pseudonym_key`` (readable by its owner only).

    Pseudonyms made with different keys never match, so keep this key as long as the data
    made with it, and never beside that data.
    """
    return _kept_key("CAREPOOL_PSEUDONYM_KEY", "pseudonym_key", state_dir).encode("utf-8")


def audit_key(state_dir: Path | None = None) -> bytes:
    """The key the audit log's hashes are made with: from ``CAREPOOL_AUDIT_KEY``, else a
    generated one kept in ``.carepool/audit_key`` (readable by its owner only).

    It is kept apart from the database so that someone who can write to the database but
    does not hold the key cannot rewrite the log unnoticed. Back it up with, but never
    beside, the database: without it the log cannot be verified, and carepool refuses to
    extend a log written under another key.
    """
    return _kept_key("CAREPOOL_AUDIT_KEY", "audit_key", state_dir).encode("utf-8")


def _kept_key(variable: str, name: str, state_dir: Path | None) -> str:
    """A key from the environment variable, else from ``name`` in the state folder, made
    there on first use."""
    configured = os.environ.get(variable)
    if configured:
        return configured
    key_file = (state_dir or Path.cwd() / ".carepool") / name
    if not key_file.exists():
        _make_key_file(key_file)
    return key_file.read_text(encoding="utf-8").strip()


def _make_key_file(key_file: Path) -> None:
    """Write a new random key, readable by its owner only.

    The key is written to a file of its own and then linked into place, which fails if
    another process got there first: two processes starting at once end up with one key,
    and none ever reads a half-written file.
    """
    key_file.parent.mkdir(parents=True, exist_ok=True)
    handle, written = tempfile.mkstemp(dir=key_file.parent, prefix=f".{key_file.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as new:
            new.write(secrets.token_urlsafe(48))
        os.link(written, key_file)
    except FileExistsError:
        pass
    finally:
        os.unlink(written)
