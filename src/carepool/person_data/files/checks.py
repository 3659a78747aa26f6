"""Checking person-level rows a batch at a time, and the quarantine lines of those that fail.

The fourth stage of :mod:`carepool.person_data.files.ingest`. Every column of a batch is checked as
a whole (an invalid NHS number, a date that cannot be, an unknown area, a value outside its
list, a duplicate key...), then the rules across columns of one row. A row with any problem
goes to **quarantine** with one line per problem: file, row, column and reason. Rows are
never silently dropped: every one read is either accepted or quarantined, and counted in a
:class:`KindOutcome`.

Accepted rows come back pseudonymised, ``person_id`` in place of ``nhs_number``. The raw
NHS number is never kept: quarantine shows the pseudonym when the number was valid and
nothing when it was not, and anything in another column that looks like an NHS number is
hidden.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped, unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped, unused-ignore]

from carepool.domain.person_level import (
    AREA,
    EARLIEST_EVENT_DATE,
    LIST_SEPARATOR,
    NHS_NUMBER,
    PERSON_ID,
    Column,
    ColumnType,
    RecordKind,
)
from carepool.domain.pseudonym import INVALID, hex_text, nhs_numbers_from_text
from carepool.person_data.files.columns import (
    Mask,
    Numbers,
    Places,
    as_text,
    from_numpy,
    is_coded_column,
    is_missing,
    storage_schema,
    text_buffers,
    to_mask,
)
from carepool.person_data.files.duplicates import CONFLICT, REPEAT, BatchDuplicates
from carepool.person_data.files.raw import HIDDEN, LOOKS_LIKE_NHS_NUMBER, Batch, RaggedRow

_WHOLE_NUMBER = r"^-?[0-9]{1,9}$"
_EPOCH = dt.date(1970, 1, 1)


# --------------------------------------------------------------------------------------------
# 4. Check every row


@dataclass(frozen=True, slots=True)
class PseudonymTable:
    """The pseudonym of every distinct person of an ingest, as hex text, by place.

    One more text than people: an empty one, at the place rows with invalid numbers have.
    """

    texts: pa.Array

    @classmethod
    def from_digests(cls, digests: npt.NDArray[np.uint8]) -> PseudonymTable:
        hexes = hex_text(digests)
        offsets = np.arange(len(hexes) + 2, dtype=np.int32) * hexes.shape[1]
        offsets[-1] = offsets[-2]  # the empty text at the end
        buffers = [None, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(hexes))]
        return cls(pa.Array.from_buffers(pa.string(), len(hexes) + 1, buffers))

    @property
    def invalid(self) -> int:
        """The place of rows whose NHS number is not valid."""
        return len(self.texts) - 1

    def column(self, people: Places) -> pa.Array:
        """The ``person_id`` text for each row: its pseudonym, or empty for an invalid number."""
        return self.texts.take(from_numpy(people))


@dataclass(frozen=True, slots=True)
class CheckContext:
    """What row checks need besides the rows: the year's areas, today, the pseudonyms.

    ``merged_codes`` are councils the year's geography merges into an area of another code
    (the Isles of Scilly into Cornwall and Isles of Scilly), and ``merged_into`` that area's
    code, in the same order: a record coded with such a council is stored in its area.
    """

    area_codes: pa.Array
    as_of: dt.date
    pseudonyms: PseudonymTable
    merged_codes: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))
    merged_into: pa.Array = field(default_factory=lambda: pa.array([], pa.string()))

    @classmethod
    def build(
        cls,
        area_codes: Iterable[str],
        as_of: dt.date,
        pseudonyms: PseudonymTable,
        merged: Mapping[str, str] | None = None,
    ) -> CheckContext:
        councils = sorted(merged or {})
        return cls(
            pa.array(sorted(area_codes), pa.string()),
            as_of,
            pseudonyms,
            pa.array(councils, pa.string()),
            pa.array([(merged or {})[c] for c in councils], pa.string()),
        )


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a column, and the rows of the batch that have it.

    ``reason`` is what the ingest counts; ``details``, when given, is each row's own message
    for its quarantine line (aligned with the batch's rows), naming what ``reason`` cannot.
    """

    column: str
    reason: str
    rows: Mask
    details: pa.Array | None = None


@dataclass(slots=True)
class Checked:
    """A column after checking: its values as stored, and what is wrong with which rows.

    ``mapped`` marks the rows whose area code was a merged council's, stored as its area's.
    """

    values: pa.Array
    findings: list[Finding]
    mapped: Mask | None = None


def _finding(column: Column, reason: str, rows: Mask) -> list[Finding]:
    return [Finding(column.name, reason, rows)] if rows.any() else []


def _check_text(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    text = raw if _is_coded(raw) else as_text(raw)
    missing = _per_value(text, is_missing)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    present = ~missing
    if column.allowed:
        listed = _per_value(text, _listed(column.allowed))
        reason = "is not one of: " + ", ".join(column.allowed)
        findings += _finding(column, reason, present & ~listed)
    if column.is_list:
        findings += _list_findings(column, text, present)
    elif column.pattern:
        fits = _per_value(
            text, lambda v: to_mask(pc.match_substring_regex(v, f"^(?:{column.pattern})$"))
        )
        findings += _finding(column, "is not in the expected form", present & ~fits)
    if column == AREA:
        return _check_area(text, missing, findings, context)
    if not column.allowed and not column.pattern:
        lookalike = _per_value(text, _lookalike) & present
        findings += _finding(column, "looks like an NHS number, which must not be kept", lookalike)
    return Checked(_stored_text(column, text, missing), findings)


def _list_findings(column: Column, text: pa.Array, present: Mask) -> list[Finding]:
    """A list must be values in the column's form with one separator between each two, and
    no longer than the column allows.

    One pattern checks both on every row (it costs no more than checking the form alone);
    only the few rows it refuses are looked at again, to say which rule they break.
    """
    value, separator = f"(?:{column.pattern})", re.escape(LIST_SEPARATOR)
    most = (column.max_items or 1) - 1
    fits = to_mask(pc.match_substring_regex(text, f"^{value}(?:{separator}{value}){{0,{most}}}$"))
    refused = np.flatnonzero(present & ~fits)
    longer = np.zeros(len(fits), np.bool_)
    if len(refused):
        again = text.take(from_numpy(refused))
        well_formed = to_mask(pc.match_substring_regex(again, f"^{value}(?:{separator}{value})*$"))
        longer[refused[well_formed]] = True
    reason = f"is not a list of codes in the expected form, separated by '{LIST_SEPARATOR}'"
    return _finding(column, reason, present & ~fits & ~longer) + _finding(
        column, f"has more than {column.max_items} codes", longer
    )


UNKNOWN_AREA = "is not an area of this year's geography, nor a council merged into one"


def _check_area(
    text: pa.Array, missing: Mask, findings: list[Finding], context: CheckContext
) -> Checked:
    """An area code must be one of the year's areas, or a council the year merges into one
    (such a record is stored with its area's code, and counted as mapped)."""
    known = _per_value(text, lambda v: to_mask(pc.is_in(v, value_set=context.area_codes)))
    merged = _per_value(text, lambda v: to_mask(pc.is_in(v, value_set=context.merged_codes)))
    present = ~missing
    mapped = present & merged & ~known
    findings += _finding(AREA, UNKNOWN_AREA, present & ~known & ~merged)
    if mapped.any():
        text = _merged_into(text, context)
    return Checked(_stored_text(AREA, text, missing), findings, mapped)


def _merged_into(text: pa.Array, context: CheckContext) -> pa.Array:
    """Area codes with every merged council's code replaced by its area's."""
    values = text.dictionary if _is_coded(text) else text
    place = pc.index_in(values, value_set=context.merged_codes)
    replaced = pc.if_else(pc.is_valid(place), context.merged_into.take(place), values)
    return replaced.take(text.indices) if _is_coded(text) else replaced


def _stored_text(column: Column, text: pa.Array, missing: Mask) -> pa.Array:
    """Text as written: coded columns stay dictionaries (so the Parquet writer need not hash
    every value again), others plain; a nullable column's empty values become nulls."""
    if column.nullable:
        text = pc.if_else(from_numpy(missing), pa.scalar(None, pa.string()), as_text(text))
    if not is_coded_column(column):
        return as_text(text)
    return text if _is_coded(text) else pc.dictionary_encode(text)


def _is_coded(raw: pa.Array) -> bool:
    return bool(pa.types.is_dictionary(raw.type) and pa.types.is_string(raw.type.value_type))


def _per_value(text: pa.Array, test: Callable[[pa.Array], Mask]) -> Mask:
    """Run a test once per distinct value of a dictionary-coded column, else once per row."""
    if not _is_coded(text):
        return test(text)
    on_values = test(text.dictionary)
    nulls = to_mask(pc.is_null(text))
    indices = np.asarray(pc.fill_null(text.indices, 0).to_numpy(zero_copy_only=False), np.int64)
    result = on_values[indices] if len(on_values) else np.zeros(len(text), np.bool_)
    return np.where(nulls, test(pa.nulls(1, pa.string()))[0], result)


def _listed(allowed: Sequence[str]) -> Callable[[pa.Array], Mask]:
    value_set = pa.array(allowed, pa.string())
    return lambda values: to_mask(pc.is_in(values, value_set=value_set))


def _lookalike(values: pa.Array) -> Mask:
    found: Mask = nhs_numbers_from_text(*text_buffers(values), ~is_missing(values)) != INVALID
    return found


def _check_integer(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    whole, missing, parsed = _whole_numbers(raw)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    findings += _finding(column, "is not a whole number", ~missing & ~parsed)
    low = -(2**31) if column.minimum is None else column.minimum
    high = 2**31 - 1 if column.maximum is None else column.maximum
    in_range = (whole >= low) & (whole <= high)
    findings += _finding(column, f"is not between {low} and {high}", parsed & ~in_range)
    stored = np.where(parsed & in_range, whole, 0).astype(np.int32)
    return Checked(from_numpy(stored, pa.int32(), missing), findings)


def _whole_numbers(raw: pa.Array) -> tuple[Numbers, Mask, Mask]:
    """Values as integers, which are missing, and which were whole numbers."""
    if pa.types.is_integer(raw.type):
        missing = to_mask(pc.is_null(raw))
        values = pc.fill_null(pc.cast(raw, pa.int64()), 0).to_numpy(zero_copy_only=False)
        return np.asarray(values, np.int64), missing, ~missing
    if pa.types.is_floating(raw.type):
        missing = to_mask(pc.is_null(raw))
        floats = np.asarray(pc.fill_null(raw, 0).to_numpy(zero_copy_only=False), np.float64)
        whole = np.isfinite(floats) & (np.floor(floats) == floats) & (np.abs(floats) < 1e9)
        return np.where(whole, floats, 0).astype(np.int64), missing, whole & ~missing
    text = pc.utf8_trim_whitespace(as_text(raw))
    missing = is_missing(text)
    parsed = to_mask(pc.match_substring_regex(text, _WHOLE_NUMBER))
    values = pc.cast(pc.if_else(from_numpy(parsed), text, "0"), pa.int64())
    return np.asarray(values.to_numpy(zero_copy_only=False), np.int64), missing, parsed


def _check_date(column: Column, raw: pa.Array, context: CheckContext) -> Checked:
    days, missing, parsed = _dates(raw)
    findings = [] if column.nullable else _finding(column, "is missing", missing)
    findings += _finding(column, "is not a date written YYYY-MM-DD", ~missing & ~parsed)
    earliest = (EARLIEST_EVENT_DATE - _EPOCH).days
    findings += _finding(
        column, "is before 5 July 1948, when the NHS began", parsed & (days < earliest)
    )
    latest = (context.as_of - _EPOCH).days
    findings += _finding(column, "is in the future", parsed & (days > latest))
    if column.type == ColumnType.MONTH:
        first = days.astype("datetime64[D]").astype("datetime64[M]").astype("datetime64[D]")
        not_first = days != first.astype(np.int64)
        findings += _finding(column, "is not the first day of a month", parsed & not_first)
    stored = np.where(parsed, days, 0).astype(np.int32)
    return Checked(from_numpy(stored, pa.date32(), missing), findings)


def _dates(raw: pa.Array) -> tuple[Numbers, Mask, Mask]:
    """Values as days since 1970, which are missing, and which were real dates."""
    if pa.types.is_date(raw.type) or pa.types.is_timestamp(raw.type):
        dates = pc.cast(raw, pa.date32()) if not pa.types.is_date32(raw.type) else raw
        missing = to_mask(pc.is_null(dates))
        days = pc.fill_null(pc.cast(dates, pa.int32()), 0).to_numpy(zero_copy_only=False)
        return np.asarray(days, np.int64), missing, ~missing
    text = as_text(raw)
    missing = is_missing(text)
    stamps = pc.strptime(text, format="%Y-%m-%d", unit="s", error_is_null=True)
    shaped = to_mask(pc.match_substring_regex(text, r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
    # strptime rolls 30 February over into March: a real date keeps the day it was given.
    written_day = pc.cast(
        pc.if_else(from_numpy(shaped), pc.utf8_slice_codeunits(text, 8, 10), "0"), pa.int64()
    )
    parsed = shaped & to_mask(pc.equal(pc.day(stamps), written_day))
    days = pc.fill_null(pc.cast(pc.cast(stamps, pa.date32()), pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), np.int64), missing, parsed


_CHECKS: Mapping[ColumnType, Callable[[Column, pa.Array, CheckContext], Checked]] = {
    ColumnType.TEXT: _check_text,
    ColumnType.INTEGER: _check_integer,
    ColumnType.DATE: _check_date,
    ColumnType.MONTH: _check_date,
}


# Rules across columns of one row: each sees the stored values and which were valid.
RowRule = Callable[[Mapping[str, pa.Array], Mapping[str, Mask]], list[Finding]]


def _days(values: pa.Array) -> Numbers:
    days = pc.fill_null(pc.cast(values, pa.int32()), 0)
    return np.asarray(days.to_numpy(zero_copy_only=False), np.int64)


def _discharged_before_admitted(
    values: Mapping[str, pa.Array], valid: Mapping[str, Mask]
) -> list[Finding]:
    early = _days(values["discharge_date"]) < _days(values["admission_date"])
    both = valid["discharge_date"] & valid["admission_date"]
    return [Finding("discharge_date", "is before admission_date", both & early)]


def _more_days_than_the_month(
    values: Mapping[str, pa.Array], valid: Mapping[str, Mask]
) -> list[Finding]:
    starts = _days(values["month"]).astype("datetime64[D]")
    ends = (starts.astype("datetime64[M]") + 1).astype("datetime64[D]")
    length = (ends - starts).astype(np.int64)
    days = np.asarray(values["delayed_days"].to_numpy(zero_copy_only=False), np.int64)
    both = valid["month"] & valid["delayed_days"]
    return [Finding("delayed_days", "is more than the days in the month", both & (days > length))]


ROW_RULES: Mapping[str, tuple[RowRule, ...]] = {
    "spells": (_discharged_before_admitted,),
    "delays": (_more_days_than_the_month,),
}


@dataclass(slots=True)
class KindOutcome:
    """Counts for the rows of one kind: read, accepted, quarantined, and why.

    ``mapped`` counts the accepted rows coded with a merged council, by ``council to area``
    (``E06000053 to E06000052``).
    """

    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    mapped: Counter[str] = field(default_factory=Counter)

    def add(self, other: KindOutcome) -> None:
        self.rows_read += other.rows_read
        self.accepted += other.accepted
        self.quarantined += other.quarantined
        self.reasons.update(other.reasons)
        self.mapped.update(other.mapped)


@dataclass(frozen=True, slots=True)
class CheckedBatch:
    """A batch split into the rows to keep (pseudonymised) and the quarantine lines."""

    accepted: pa.RecordBatch
    quarantine: pa.Table | None
    outcome: KindOutcome


def check_batch(
    kind: RecordKind,
    batch: Batch,
    people: Places,
    duplicates: BatchDuplicates | None,
    context: CheckContext,
    file_name: str,
) -> CheckedBatch:
    """Check every row of a batch; accepted rows come back ready to store."""
    values: dict[str, pa.Array] = {}
    findings: list[Finding] = []
    mapped = None
    for column in kind.columns:
        raw = batch.values.column(column.name)
        if column == NHS_NUMBER:
            findings += _nhs_number_findings(raw, people == context.pseudonyms.invalid)
            continue
        checked = _CHECKS[column.type](column, raw, context)
        values[column.name] = checked.values
        findings += checked.findings
        mapped = checked.mapped if checked.mapped is not None else mapped
    if duplicates is not None:
        findings += _duplicate_findings(kind, duplicates)
    valid = _valid_columns(kind, findings, batch.values.num_rows)
    for rule in ROW_RULES.get(kind.name, ()):
        findings += [f for f in rule(values, valid) if f.rows.any()]
    split = _split(kind, batch, values, people, findings, context, file_name)
    if mapped is not None and mapped.any():
        kept = mapped & ~_rows_with_problems(findings, batch.values.num_rows)
        split.outcome.mapped.update(_mapped_counts(batch.values.column(AREA.name), kept, context))
    return split


def _rows_with_problems(findings: list[Finding], rows: int) -> Mask:
    bad = np.zeros(rows, np.bool_)
    for finding in findings:
        bad |= finding.rows
    return bad


def _mapped_counts(raw: pa.Array, rows: Mask, context: CheckContext) -> Counter[str]:
    """How many of ``rows`` were coded with each merged council, as ``council to area``."""
    counted = pc.value_counts(as_text(raw).filter(from_numpy(rows)))
    into = dict(zip(context.merged_codes.to_pylist(), context.merged_into.to_pylist(), strict=True))
    return Counter(
        {
            f"{code} to {into[code]}": count
            for code, count in zip(
                counted.field("values").to_pylist(),
                counted.field("counts").to_pylist(),
                strict=True,
            )
        }
    )


def _duplicate_findings(kind: RecordKind, duplicates: BatchDuplicates) -> list[Finding]:
    found = [
        Finding(kind.key, REPEAT, duplicates.repeats, duplicates.messages),
        Finding(kind.key, CONFLICT, duplicates.conflicts, duplicates.messages),
    ]
    return [f for f in found if f.rows.any()]


def _nhs_number_findings(raw: pa.Array, invalid: Mask) -> list[Finding]:
    missing = is_missing(as_text(raw, pad_integers=True))
    return _finding(NHS_NUMBER, "is missing", missing) + _finding(
        NHS_NUMBER, "is not a valid NHS number", ~missing & invalid
    )


def _valid_columns(kind: RecordKind, findings: list[Finding], rows: int) -> dict[str, Mask]:
    valid = {c.name: np.ones(rows, np.bool_) for c in kind.columns}
    for finding in findings:
        valid[finding.column] &= ~finding.rows
    return valid


def _split(
    kind: RecordKind,
    batch: Batch,
    values: dict[str, pa.Array],
    people: Places,
    findings: list[Finding],
    context: CheckContext,
    file_name: str,
) -> CheckedBatch:
    bad = _rows_with_problems(findings, batch.values.num_rows)
    person_ids = context.pseudonyms.column(people)
    columns = [
        person_ids if c == PERSON_ID else values[c.name] for c in kind.pseudonymised_columns()
    ]
    if bad.any():
        keep = from_numpy(~bad)
        columns = [column.filter(keep) for column in columns]
    columns = [_compacted(column) for column in columns]
    accepted = pa.RecordBatch.from_arrays(columns, schema=storage_schema(kind))
    outcome = KindOutcome(
        rows_read=batch.values.num_rows,
        accepted=accepted.num_rows,
        quarantined=int(bad.sum()),
        reasons=Counter({f"{f.column}: {f.reason}": int(f.rows.sum()) for f in findings}),
    )
    if not findings:
        return CheckedBatch(accepted, None, outcome)
    lines = _quarantine_lines(kind, batch, person_ids, findings, file_name)
    return CheckedBatch(accepted, lines, outcome)


def _compacted(column: pa.Array) -> pa.Array:
    """A coded column whose dictionary holds only the values its rows use.

    The dictionary is written to the file as it is. Rows filtered out, or rows of another
    batch of the same row group (which shares its dictionary), leave their values in it, and
    a quarantined row's value (an NHS number typed into the wrong column, say) must not be
    stored that way.
    """
    if not pa.types.is_dictionary(column.type):
        return column
    present = ~to_mask(pc.is_null(column)) if column.null_count else None
    indices = np.asarray(pc.fill_null(column.indices, 0).to_numpy(zero_copy_only=False))
    used = np.zeros(len(column.dictionary), np.bool_)
    used[indices if present is None else indices[present]] = True
    if used.all():
        return column
    places = (np.cumsum(used) - 1).astype(np.int32)
    remapped = from_numpy(places[indices], pa.int32(), None if present is None else ~present)
    return pa.DictionaryArray.from_arrays(remapped, column.dictionary.filter(from_numpy(used)))


# --------------------------------------------------------------------------------------------
# Quarantine


def quarantine_schema(kind: RecordKind) -> pa.Schema:
    """One line per problem: where it is and why, then the row's values as text."""
    located = [
        ("source_file", pa.string()),
        ("source_row", pa.int64()),
        ("problem_column", pa.string()),
        ("problem", pa.string()),
    ]
    return pa.schema(located + [(c.name, pa.string()) for c in kind.pseudonymised_columns()])


def _quarantine_lines(
    kind: RecordKind,
    batch: Batch,
    person_ids: pa.Array,
    findings: list[Finding],
    file_name: str,
) -> pa.Table:
    rows = [np.flatnonzero(f.rows) for f in findings]
    index = np.concatenate(rows)
    located = {
        "source_file": _repeat(file_name, len(index)),
        "source_row": from_numpy(batch.rows[index]),
        "problem_column": _repeated(
            [(f.column, len(r)) for f, r in zip(findings, rows, strict=True)]
        ),
        "problem": pa.concat_arrays([_problems(f, r) for f, r in zip(findings, rows, strict=True)]),
    }
    taken = from_numpy(index)
    shown = {
        c.name: person_ids.take(taken)
        if c == PERSON_ID
        else _shown(batch.values.column(c.name), taken)
        for c in kind.pseudonymised_columns()
    }
    return _table({**located, **shown}, quarantine_schema(kind))


def _table(columns: Mapping[str, pa.Array], schema: pa.Schema) -> pa.Table:
    """A table from named columns (``pa.table`` on a dict would look for pandas first)."""
    return pa.Table.from_arrays([columns[name] for name in schema.names], schema=schema)


def _repeat(text: str, count: int) -> pa.Array:
    return pa.repeat(pa.scalar(text, pa.string()), count)


def _problems(finding: Finding, rows: Numbers) -> pa.Array:
    """The problem text of a finding's quarantine lines: each row's own, or the reason."""
    if finding.details is None:
        return _repeat(finding.reason, len(rows))
    return as_text(finding.details.take(from_numpy(rows)))


def _repeated(runs: Sequence[tuple[str, int]]) -> pa.Array:
    return pa.concat_arrays([_repeat(text, count) for text, count in runs])


def _shown(raw: pa.Array, index: pa.Array) -> pa.Array:
    """A quarantined value as text, with anything shaped like an NHS number hidden."""
    return pc.replace_substring_regex(as_text(raw.take(index)), LOOKS_LIKE_NHS_NUMBER, HIDDEN)


def ragged_lines(kind: RecordKind, ragged: Sequence[RaggedRow], file_name: str) -> pa.Table:
    """Quarantine lines for CSV rows that could not be split into the kind's columns."""
    columns: dict[str, pa.Array] = {
        "source_file": _repeat(file_name, len(ragged)),
        "source_row": pa.array([r.row for r in ragged], pa.int64()),
        "problem_column": _repeat("", len(ragged)),
        "problem": pa.array([_ragged_reason(r) for r in ragged], pa.string()),
    }
    blank = _repeat("", len(ragged))
    columns.update({c.name: blank for c in kind.pseudonymised_columns()})
    return _table(columns, quarantine_schema(kind))


def _ragged_reason(row: RaggedRow) -> str:
    return f"has {row.fields} fields where {row.expected} were expected"


def ragged_outcome(ragged: Sequence[RaggedRow]) -> KindOutcome:
    """Ragged rows count as read and quarantined, with the whole row as the place."""
    reasons = Counter(f"row: {_ragged_reason(r)}" for r in ragged)
    return KindOutcome(rows_read=len(ragged), quarantined=len(ragged), reasons=reasons)
