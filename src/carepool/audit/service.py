"""Reading the audit log: the newest events, and checking the chain (``carepool audit verify``)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from carepool.audit import repository as audit
from carepool.audit.repository import AuditEventRow
from carepool.domain.audit import ChainBreak, verify_chain


def recent(session: Session, limit: int = 50) -> list[AuditEventRow]:
    """The newest events, newest first, for the national team's pages."""
    return audit.recent(session, limit)


def verify(session: Session) -> tuple[int, list[ChainBreak]]:
    """How many events there are, and every break in their chain."""
    records = list(audit.chain(session))
    return len(records), verify_chain(records)
