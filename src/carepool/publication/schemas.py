"""What ``carepool publish --json`` prints: where the package went and what it holds."""

from __future__ import annotations

from carepool.publication.service.package import Published
from carepool.web.schemas.common import Schema


class TableOut(Schema):
    name: str
    rows: int


class PublishedOut(Schema):
    """The package written: its folder, each table's row count, the grants and the bytes."""

    out: str
    tables: list[TableOut]
    grants: int
    bytes: int

    @classmethod
    def of(cls, published: Published) -> PublishedOut:
        return cls(
            out=str(published.out),
            tables=[TableOut(name=name, rows=rows) for name, rows in published.tables],
            grants=published.grants,
            bytes=published.bytes,
        )
