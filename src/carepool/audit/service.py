"""Checking the audit chain (``carepool audit verify``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.domain.audit import ChainBreak, verify_chain


def verify(session: Session) -> tuple[int, list[ChainBreak]]:
    """How many events there are, and every break in their chain."""
    records = list(audit.chain(session))
    return len(records), verify_chain(records)
