"""Reading one block ahead in a worker thread: same blocks, same order, same errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import closing

import pytest

from carepool.io.read_ahead import read_ahead


def _workers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("carepool-read-ahead")]


def test_the_blocks_come_in_order_and_all_of_them() -> None:
    assert list(read_ahead(iter(range(1_000)))) == list(range(1_000))
    assert list(read_ahead(iter([]))) == []
    assert _workers() == []


def test_the_next_block_is_read_while_the_caller_works_on_this_one() -> None:
    reading_second = threading.Event()

    def blocks() -> Iterator[str]:
        yield "first"
        reading_second.set()
        yield "second"

    seen = []
    for block in read_ahead(blocks()):
        if block == "first":  # read one after the other, the second would wait for this
            assert reading_second.wait(timeout=10)
        seen.append(block)
    assert seen == ["first", "second"]


def test_only_one_block_is_read_ahead() -> None:
    read: list[int] = []

    def blocks() -> Iterator[int]:
        for number in range(10):
            read.append(number)
            yield number

    ahead = read_ahead(blocks())
    assert next(ahead) == 0
    assert len(read) <= 2  # the one given and at most the one after it
    ahead.close()


def test_a_reading_error_comes_out_where_its_block_would_have() -> None:
    def blocks() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("row 3 is not a number")

    seen = []
    with pytest.raises(ValueError, match="row 3"):
        for block in read_ahead(blocks()):
            seen.append(block)
    assert seen == [1, 2]
    assert _workers() == []


def test_stopping_early_leaves_no_thread_behind() -> None:
    with closing(read_ahead(iter(range(100)))) as ahead:
        for block in ahead:
            if block == 3:
                break
    assert _workers() == []
