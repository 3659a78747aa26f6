"""NHS number checks, and the keyed pseudonym that replaces the number at ingest.

Person-level files arrive carrying the NHS number because that is how health and care
records are linked (a 2014-16 national condition of the Better Care Fund). carepool keeps
the link and drops the number: ingest checks each number's modulus 11 check digit and
replaces it with an HMAC-SHA256 of the normalised 10 digits under a key held outside the
data. The same person gets the same pseudonym in every file and every ingest made with the
same key, so records still join; without the key, a pseudonym cannot be turned back into a
number, even by trying all ten billion of them.

There are two forms of each rule. The scalar ones (:func:`is_valid_nhs_number`,
:func:`pseudonym`) use the ``nhs-number`` library and :mod:`hmac` directly and are the
definition. The bulk ones (:func:`nhs_numbers_from_text`, :class:`Pseudonymiser`) work on
whole columns with numpy, because a national year is twenty million rows; tests prove that
the bulk forms agree with the scalar ones.

Nothing here puts a number into a message: errors say *that* a number is invalid, never
which.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

import nhs_number.validate
import numpy as np
import numpy.typing as npt

from carepool.domain.errors import CarepoolError

MIN_KEY_BYTES = 32
"""A shorter key would make the pseudonyms only as strong as the key is guessable."""

INVALID = -1
NEVER_ISSUED = (
    (0, 99_999_999),
    (3_113_000_000, 3_199_999_999),
    (5_000_000_000, 5_999_999_999),
    (8_600_000_000, 8_999_999_999),
)
"""Blocks of ten-digit numbers never issued to anyone, first and last inclusive: the blocks
the ``nhs-number`` library lists as unallocated or reserved (``nhs_number.constants``), the
first taken down to ``0000000000``. Their check digits can still be right (``0000000000``
and ``5555555555`` pass modulus 11), so a number in one is a placeholder or a mistake, never
a person. The range 999 000 0000 and up, kept for testing, is accepted: carepool's synthetic
people are numbered from it.
"""
"""What :func:`nhs_numbers_from_text` gives for text that is not a valid NHS number."""

Bytes = npt.NDArray[np.uint8]
Numbers = npt.NDArray[np.int64]
Offsets = npt.NDArray[np.int32] | npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

# Characters Python's str.strip() removes from ASCII text (the library strips before matching).
_WHITESPACE = np.array([c for c in range(128) if chr(c).isspace()], dtype=np.uint8)
_CHECK_WEIGHTS = np.arange(10, 1, -1, dtype=np.int64)  # 10, 9, ... 2 for the first nine digits
_PLACES = 10 ** np.arange(9, -1, -1, dtype=np.int64)
_SPACED_DIGITS = np.array([0, 1, 2, 4, 5, 6, 8, 9, 10, 11])  # "943 476 5919" without separators
_SEPARATORS = np.array([ord(" "), ord("-")], dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)

# Numbers in this range are Scottish CHI numbers, whose first six digits are a date of birth
# (DDMMYY); the library refuses one whose date is not a real day, and so must the bulk check.
_CHI_FIRST = 100_000_000
_CHI_LAST = 3_112_999_999
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def is_valid_nhs_number(text: str) -> bool:
    """Whether ``text`` is an NHS number: 10 digits (``943 476 5919`` and ``943-476-5919``
    are allowed too) whose last digit is the modulus 11 check digit of the first nine, and
    which lie outside the blocks never issued (:data:`NEVER_ISSUED`).

    The ``nhs-number`` library is the rule for the digits. Only ASCII text is accepted,
    because NHS numbers are written in ASCII digits and the library would otherwise take
    other scripts' digits.
    """
    if not (text.isascii() and nhs_number.validate.is_valid(text)):
        return False
    number = int("".join(c for c in text if c.isdigit()))
    return not any(first <= number <= last for first, last in NEVER_ISSUED)


def normalise_nhs_number(text: str) -> str:
    """The 10 digits of a valid NHS number, as the pseudonym is computed from them.

    Raises :class:`CarepoolError` (without the text) when ``text`` is not a valid number.
    """
    if not is_valid_nhs_number(text):
        raise CarepoolError("not a valid NHS number")
    return "".join(c for c in text if c.isdigit())


def check_key(key: bytes) -> bytes:
    """Refuse a key too short to keep pseudonyms from being reversed by guessing the key."""
    if len(key) < MIN_KEY_BYTES:
        raise CarepoolError(
            f"the pseudonym key has {len(key)} bytes; it must have at least {MIN_KEY_BYTES}. "
            "Set CAREPOOL_PSEUDONYM_KEY to a long random value, or remove it to have one made"
        )
    return key


def pseudonym(text: str, key: bytes) -> str:
    """The person's pseudonym: HMAC-SHA256 of the normalised 10 digits under ``key``, in hex."""
    digits = normalise_nhs_number(text)
    return hmac.new(check_key(key), digits.encode("ascii"), hashlib.sha256).hexdigest()


def nhs_numbers_from_text(data: Bytes, offsets: Offsets, present: Mask | None = None) -> Numbers:
    """Check a whole column of text at once: each valid NHS number as an integer, else -1.

    The column is given as Arrow lays text out: ``data`` holds every value's UTF-8 bytes end
    to end, and value ``i`` is ``data[offsets[i]:offsets[i + 1]]``. ``present`` marks the
    values that exist (a missing value is not a number). The result agrees with
    :func:`is_valid_nhs_number` for every value; the integer of a 10-digit number loses no
    information, since the digits are the number zero-padded to 10 places.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    starts = offsets[:-1]
    lengths = np.diff(offsets)
    numbers = np.full(len(lengths), INVALID, dtype=np.int64)
    usable = np.ones(len(lengths), dtype=np.bool_) if present is None else present
    plain = np.flatnonzero(usable & (lengths == 10))
    if plain.size == len(lengths):  # the usual column: every value 10 bytes, end to end
        return _checked(data[offsets[0] : offsets[-1]].reshape(-1, 10))
    if plain.size:
        numbers[plain] = _checked(data[starts[plain, None] + np.arange(10)])
    # Longer values can only be numbers with spaces around or inside them, so they must begin
    # and end with a digit or whitespace: that rules out most other text (keys, codes) cheaply.
    longer = np.flatnonzero(usable & (lengths > 10))
    ends_ok = _digit_or_space(data[starts[longer]]) & _digit_or_space(data[offsets[longer + 1] - 1])
    padded = longer[ends_ok]
    if padded.size:
        numbers[padded] = _checked_padded(data, starts[padded], lengths[padded])
    return numbers


def _digit_or_space(text: Bytes) -> Mask:
    return ((text >= ord("0")) & (text <= ord("9"))) | np.isin(text, _WHITESPACE)


def _checked_padded(data: Bytes, starts: Numbers, lengths: Numbers) -> Numbers:
    """Values longer than 10 bytes: surrounding whitespace, or the spaced and dashed forms."""
    total = int(lengths.sum())
    firsts = np.zeros(len(lengths), dtype=np.int64)
    firsts[1:] = np.cumsum(lengths)[:-1]
    flat = data[np.repeat(starts - firsts, lengths) + np.arange(total)]
    positions = np.arange(total, dtype=np.int64)
    solid = ~np.isin(flat, _WHITESPACE)
    first = np.minimum.reduceat(np.where(solid, positions, total), firsts)
    last = np.maximum.reduceat(np.where(solid, positions, -1), firsts)
    ascii_only = ~np.logical_or.reduceat(flat >= 128, firsts)
    kept = last - first + 1
    numbers = np.full(len(lengths), INVALID, dtype=np.int64)
    ten = np.flatnonzero(ascii_only & (kept == 10))
    if ten.size:
        numbers[ten] = _checked(flat[first[ten, None] + np.arange(10)])
    twelve = np.flatnonzero(ascii_only & (kept == 12))
    if twelve.size:
        numbers[twelve] = _checked_spaced(flat[first[twelve, None] + np.arange(12)])
    return numbers


def _checked_spaced(text: Bytes) -> Numbers:
    """``943 476 5919`` or ``943-476-5919``: one kind of separator, in both places."""
    same = (text[:, 3] == text[:, 7]) & np.isin(text[:, 3], _SEPARATORS)
    return np.where(same, _checked(text[:, _SPACED_DIGITS]), INVALID)


def _checked(text: Bytes) -> Numbers:
    """Rows of exactly 10 bytes: the number if all are digits and the check digit is right."""
    all_digits = ((text >= ord("0")) & (text <= ord("9"))).all(axis=1)
    digits = text.astype(np.int64) - ord("0")
    check = (11 - (digits[:, :9] @ _CHECK_WEIGHTS) % 11) % 11  # 10 matches no digit: invalid
    numbers = digits @ _PLACES
    valid = all_digits & (check == digits[:, 9]) & ~_never_issued(numbers)
    chi = np.flatnonzero((numbers >= _CHI_FIRST) & (numbers <= _CHI_LAST))
    valid[chi] &= _real_birth_dates(digits[chi])
    return np.where(valid, numbers, INVALID)


def _never_issued(numbers: Numbers) -> Mask:
    found = np.zeros(len(numbers), dtype=np.bool_)
    for first, last in NEVER_ISSUED:
        found |= (numbers >= first) & (numbers <= last)
    return found


def _real_birth_dates(digits: Numbers) -> Mask:
    """Whether the first six digits are a real DDMMYY day (years 69-99 are 1900s, else 2000s;
    either way a year divisible by 4 is a leap year, 2000 included)."""
    day = digits[:, 0] * 10 + digits[:, 1]
    month = digits[:, 2] * 10 + digits[:, 3]
    year = digits[:, 4] * 10 + digits[:, 5]
    real_month = (month >= 1) & (month <= 12)
    days = _DAYS_IN_MONTH[np.where(real_month, month, 0)] + ((month == 2) & (year % 4 == 0))
    real: Mask = real_month & (day >= 1) & (day <= days)
    return real


@dataclass(frozen=True, slots=True)
class Pseudonymiser:
    """Pseudonyms for many numbers at once, keyed once.

    HMAC is two SHA-256 passes, each starting with a block derived from the key alone
    (RFC 2104). Those two starting states are hashed here once and copied per number, which
    gives exactly ``hmac.new(key, digits, sha256)`` at half the cost.
    """

    key: bytes = field(repr=False)
    _inner: hashlib._Hash = field(init=False, repr=False)
    _outer: hashlib._Hash = field(init=False, repr=False)

    def __post_init__(self) -> None:
        block = check_key(self.key)
        if len(block) > hashlib.sha256().block_size:
            block = hashlib.sha256(block).digest()
        block = block.ljust(hashlib.sha256().block_size, b"\0")
        object.__setattr__(self, "_inner", hashlib.sha256(bytes(b ^ 0x36 for b in block)))
        object.__setattr__(self, "_outer", hashlib.sha256(bytes(b ^ 0x5C for b in block)))

    @property
    def key_id(self) -> str:
        """A short fingerprint of the key, so a data directory can say which key made it
        (pseudonyms from different keys never match) without revealing the key."""
        return hmac.new(self.key, b"carepool pseudonym key id", hashlib.sha256).hexdigest()[:16]

    def digests(self, numbers: Numbers) -> Bytes:
        """The 32-byte HMAC of each number's 10 digits, one row per number."""
        inner, outer = self._inner.copy, self._outer.copy
        parts: list[bytes] = []
        for number in numbers.tolist():
            first = inner()
            first.update(b"%010d" % number)
            second = outer()
            second.update(first.digest())
            parts.append(second.digest())
        return np.frombuffer(b"".join(parts), dtype=np.uint8).reshape(-1, 32)


def pseudonym_digests(key: bytes, numbers: Numbers) -> Bytes:
    """:meth:`Pseudonymiser.digests` as a plain function, so a worker process can run it."""
    return Pseudonymiser(key).digests(numbers)


def hex_text(digests: Bytes) -> Bytes:
    """Each row of bytes as lower-case hex ASCII, twice as wide: how pseudonyms are stored."""
    pairs = np.stack([_HEX[digests >> 4], _HEX[digests & 0x0F]], axis=-1)
    return pairs.reshape(len(digests), 2 * digests.shape[1])
