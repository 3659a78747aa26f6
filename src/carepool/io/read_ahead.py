"""Reading the next block of a file while the database stores the last one.

A large import alternates two kinds of work: Python reading and checking a block of the
file, and the database writing the block before it. Done one after the other, each waits
for the other, and a machine with two cores leaves one idle. :func:`read_ahead` runs the
reading in a worker thread, one block ahead, so the two overlap: the database driver lets
Python's other threads run while it waits for a server in another process (PostgreSQL).
A database working inside this process (SQLite) gains nothing, as each row it writes
takes its turn with the reading thread for Python's lock.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")

_END = object()


def read_ahead(blocks: Iterator[T]) -> Generator[T, None, None]:
    """The same blocks in the same order, each next one read while the caller uses this one.

    Only one block is read ahead, so memory holds at most two. An exception from the
    reader is raised here, at the block it would have given. If the caller stops early
    (or fails), the block being read is finished and dropped before this returns, so no
    thread outlives the import.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="carepool-read-ahead") as worker:
        pending = worker.submit(next, blocks, _END)
        while (block := pending.result()) is not _END:
            pending = worker.submit(next, blocks, _END)
            yield cast(T, block)
