"""NHS numbers are checked by the library's rule and replaced by a keyed pseudonym.

The bulk forms, which ingest uses on millions of rows, must give exactly what the scalar
forms give: Hypothesis throws arbitrary text and number-shaped text at both.
"""

from __future__ import annotations

import hashlib
import hmac

import nhs_number
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.domain.errors import CarepoolError
from carepool.domain.pseudonym import (
    INVALID,
    MIN_KEY_BYTES,
    NEVER_ISSUED,
    Pseudonymiser,
    hex_text,
    is_valid_nhs_number,
    nhs_numbers_from_text,
    normalise_nhs_number,
    pseudonym,
)

KEY = b"a test key that is long enough for HMAC-SHA256 use"
OTHER_KEY = b"another key, just as long, but a different one entirely"
VALID = "9434765919"  # the NHS Data Dictionary's example
TEST_RANGE = ("9990000000", "9999999999")


def bulk(texts: list[str | None]) -> list[int]:
    """Run the bulk check the way ingest does: over an Arrow text column's buffers."""
    column = pa.array(texts, pa.string())
    buffers = column.buffers()
    offsets = np.frombuffer(buffers[1], np.int32)[: len(column) + 1]
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] else np.zeros(0, np.uint8)
    present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), bool)
    return nhs_numbers_from_text(data, offsets, present).tolist()


def expected(text: str | None) -> int:
    if text is None or not is_valid_nhs_number(text):
        return INVALID
    return int(normalise_nhs_number(text))


digit_text = st.text(alphabet="0123456789", min_size=9, max_size=11)
padding = st.text(alphabet=" \t\r\n\x0b\x0c\x1c\x1f", max_size=3)


@st.composite
def number_shaped(draw: st.DrawFn) -> str:
    """Text that is, or nearly is, an NHS number: the cases where mistakes would hide."""
    digits = draw(st.text(alphabet="0123456789", min_size=10, max_size=10))
    body = draw(
        st.sampled_from(
            [
                digits,
                f"{digits[:3]} {digits[3:6]} {digits[6:]}",
                f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}-{digits[3:6]} {digits[6:]}",
                f"{digits[:3]}  {digits[3:6]} {digits[6:]}",
            ]
        )
    )
    return draw(padding) + body + draw(padding)


@st.composite
def scottish_numbers(draw: st.DrawFn) -> str:
    """Numbers in the CHI range, whose first six digits must be a real day (DDMMYY)."""
    day = draw(st.integers(0, 39))
    month = draw(st.integers(0, 19))
    rest = draw(st.text(alphabet="0123456789", min_size=3, max_size=3))
    year = draw(st.integers(0, 99))
    nine = f"{day:02d}{month:02d}{year:02d}{rest}"
    check = nhs_number.calculate_checksum(nine)
    return nine + str(check % 10)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=14), digit_text, number_shaped())))
def test_the_bulk_check_agrees_with_the_library_on_any_text(texts: list[str | None]) -> None:
    assert bulk(texts) == [expected(t) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.lists(scottish_numbers(), min_size=1))
def test_the_bulk_check_agrees_on_scottish_birth_dates(texts: list[str]) -> None:
    assert bulk(texts) == [expected(t) for t in texts]


def never_issued(text: str) -> bool:
    number = int("".join(c for c in text if c.isdigit()) or 0)
    return any(first <= number <= last for first, last in NEVER_ISSUED)


@given(number_shaped())
def test_on_ascii_text_the_scalar_rule_is_the_librarys_outside_numbers_never_issued(
    text: str,
) -> None:
    assert is_valid_nhs_number(text) == (nhs_number.is_valid(text) and not never_issued(text))


@pytest.mark.parametrize(
    "text", ["0000000000", "000 000 0000", "0000050008", "3113000009", "5555555555", "8888888888"]
)
def test_numbers_never_issued_are_refused_though_their_check_digit_is_right(text: str) -> None:
    assert nhs_number.is_valid(text)
    assert not is_valid_nhs_number(text)
    assert bulk([text]) == [INVALID]
    with pytest.raises(CarepoolError, match="not a valid NHS number"):
        pseudonym(text, KEY)


def test_text_in_other_scripts_is_not_an_nhs_number() -> None:
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in VALID)
    assert nhs_number.is_valid(arabic_indic)  # the library takes any script's digits...
    assert not is_valid_nhs_number(arabic_indic)  # ...carepool only ASCII ones
    assert bulk([arabic_indic]) == [INVALID]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (VALID, 9434765919),
        ("943 476 5919", 9434765919),
        ("943-476-5919", 9434765919),
        ("  9434765919\n", 9434765919),
        ("9434765918", INVALID),  # wrong check digit
        ("943 476-5919", INVALID),  # mixed separators
        ("94347659190", INVALID),
        ("", INVALID),
    ],
)
def test_known_numbers(text: str, number: int) -> None:
    assert bulk([text]) == [number] == [expected(text)]


def with_check_digit(nine: str) -> str:
    return nine + str(nhs_number.calculate_checksum(nine))


@pytest.mark.parametrize(
    ("nine", "valid"),
    [
        ("290200123", True),  # 29 February 2000: a real day, so a real CHI number
        ("290201124", False),  # 29 February 2001: no such day
        ("311299123", True),
        ("011399123", False),  # month 13
    ],
)
def test_scottish_numbers_must_begin_with_a_real_birth_date(nine: str, valid: bool) -> None:
    text = with_check_digit(nine)
    assert len(text) == 10
    assert is_valid_nhs_number(text) is valid
    assert bulk([text]) == [int(text) if valid else INVALID]


def test_a_check_digit_of_ten_is_never_valid() -> None:
    nine = next(
        f"999{n:06d}" for n in range(10_000) if nhs_number.calculate_checksum(f"999{n:06d}") == 10
    )
    texts = [nine + str(d) for d in range(10)]
    assert bulk(texts) == [INVALID] * 10


def test_the_pseudonym_is_the_hmac_of_the_ten_digits() -> None:
    made = pseudonym("943 476 5919", KEY)
    assert made == hmac.new(KEY, VALID.encode(), hashlib.sha256).hexdigest()
    assert len(made) == 64 and set(made) <= set("0123456789abcdef")


def test_the_same_person_always_gets_the_same_pseudonym_whatever_the_layout() -> None:
    layouts = [VALID, "943 476 5919", "943-476-5919", f" {VALID} "]
    assert len({pseudonym(text, KEY) for text in layouts}) == 1


def test_a_different_key_gives_unrelated_pseudonyms() -> None:
    assert pseudonym(VALID, KEY) != pseudonym(VALID, OTHER_KEY)
    assert Pseudonymiser(KEY).key_id != Pseudonymiser(OTHER_KEY).key_id
    assert Pseudonymiser(KEY).key_id == Pseudonymiser(KEY).key_id


@given(st.lists(st.integers(0, 9_999_999_999), max_size=50), st.binary(min_size=32, max_size=80))
def test_bulk_pseudonyms_are_the_scalar_ones(numbers: list[int], key: bytes) -> None:
    digests = Pseudonymiser(key).digests(np.array(numbers, dtype=np.int64))
    made = [row.tobytes().decode() for row in hex_text(digests)]
    assert made == [hmac.new(key, b"%010d" % n, hashlib.sha256).hexdigest() for n in numbers]


def test_a_key_longer_than_a_block_is_hashed_first_as_hmac_does() -> None:
    key = bytes(range(200))
    digests = Pseudonymiser(key).digests(np.array([9434765919]))
    assert hex_text(digests)[0].tobytes().decode() == pseudonym(VALID, key)


def test_a_short_key_is_refused_clearly() -> None:
    with pytest.raises(CarepoolError, match=f"at least {MIN_KEY_BYTES}"):
        Pseudonymiser(b"too short")
    with pytest.raises(CarepoolError, match="CAREPOOL_PSEUDONYM_KEY"):
        pseudonym(VALID, b"x" * (MIN_KEY_BYTES - 1))


def test_an_invalid_number_is_refused_without_repeating_it() -> None:
    with pytest.raises(CarepoolError) as refused:
        pseudonym("9434765918", KEY)
    assert "9434765918" not in str(refused.value)
