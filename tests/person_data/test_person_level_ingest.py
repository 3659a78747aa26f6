"""Ingest: raw person-level files in, a checked and pseudonymised data directory out.

A row with a problem is quarantined with its file, row, column and reason, and counted;
it is never silently dropped. A file that cannot be used as a whole refuses the ingest, and
then nothing changes: not even a half-written data directory.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from person_files import (
    AREAS,
    AS_OF,
    BASE,
    KEY,
    NUMBERS,
    Ingest,
    WriteRaw,
    csv_text,
    read_kind,
    rows_of,
    snapshot,
)

from carepool import engines
from carepool.domain.errors import CarepoolError, ImportRejected
from carepool.domain.geography import (
    Area,
    Council,
    PopulationCount,
    code_history,
    hwb_areas,
    resolve_populations,
)
from carepool.domain.metric_catalogue import NON_ELECTIVE_ADMISSIONS
from carepool.domain.person_level import RECORD_KINDS, record_kind
from carepool.domain.pseudonym import pseudonym
from carepool.frameworks import load_framework
from carepool.person_data import service as person_data
from carepool.person_data.files import ingest as files
from carepool.person_data.files.checks import UNKNOWN_AREA
from carepool.person_data.files.duplicates import CONFLICT, REPEAT
from carepool.person_data.schemas import IngestReportOut

SPELL_REASONS = "is not one of: elective, non_elective, maternity, other"


def reasons(report: person_data.IngestReport, kind: str) -> dict[str, int]:
    return dict(next(k for k in report.kinds if k.kind == kind).reasons)


def counts(report: person_data.IngestReport, kind: str) -> tuple[int, int, int]:
    found = next(k for k in report.kinds if k.kind == kind)
    return found.rows_read, found.accepted, found.quarantined


def quarantined(data_dir: Path, kind: str) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = read_kind(data_dir / "quarantine", kind).to_pylist()
    return lines


# --------------------------------------------------------------------------------------------
# What a good file becomes


def test_accepted_rows_are_stored_pseudonymised_in_the_contracts_shape(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{}, {"nhs_number": "943 476 5919"}])
    report = ingest()
    assert counts(report, "spells") == (2, 2, 0)
    stored = read_kind(data_dir, "spells")
    kind = record_kind("spells")
    assert stored.column_names == [c.name for c in kind.pseudonymised_columns()]
    assert stored.schema.field("admission_date").type == pa.date32()
    assert stored.schema.field("age").type == pa.int32()
    assert stored.schema.field("person_id").type == pa.string()
    assert stored.column("person_id").to_pylist() == [
        pseudonym(NUMBERS[0], KEY),
        pseudonym("9434765919", KEY),
    ]
    assert stored.column("admission_date").to_pylist()[0] == dt.date(2015, 5, 10)
    assert not (data_dir / "quarantine").exists()


def test_secondary_diagnoses_are_a_list_of_up_to_19_codes_and_may_be_none(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    """Codes with or without their dot, separated by ';', as many as HES's DIAG_02 to
    DIAG_20; a spell with none leaves the column empty, and it is stored as missing."""
    nineteen = ";".join(["I10", "E11.9", "J441", "W19X"] + ["N18.3"] * 15)
    write_raw(
        "spells.csv",
        "spells",
        [
            {"secondary_diagnoses": "W01X"},
            {"secondary_diagnoses": ""},
            {"secondary_diagnoses": nineteen},
        ],
    )
    report = ingest()
    assert counts(report, "spells") == (3, 3, 0)
    stored = read_kind(data_dir, "spells").column("secondary_diagnoses").to_pylist()
    assert stored == ["W01X", None, nineteen]


def test_every_kind_is_read_and_the_same_person_has_the_same_pseudonym_in_each(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    for kind in RECORD_KINDS:
        write_raw(f"{kind.name}.csv", kind.name, [{"nhs_number": NUMBERS[5]}])
    report = ingest()
    assert [k.kind for k in report.kinds] == [k.name for k in RECORD_KINDS]
    assert report.people == 1
    people = {read_kind(data_dir, k).column("person_id")[0].as_py() for k in RECORD_KINDS}
    assert people == {pseudonym(NUMBERS[5], KEY)}


def test_records_repeated_across_parquet_files_count_once_however_their_columns_are_typed(
    source: Path, ingest: Ingest, data_dir: Path
) -> None:
    text = pa.Table.from_pylist(rows_of("spells", [{}, {"age": "0"}]))
    typed = text.set_column(
        text.schema.get_field_index("age"), "age", pc.cast(text.column("age"), pa.int16())
    )
    pq.write_table(text, source / "spells-text.parquet")
    (source / "spells").mkdir()
    pq.write_table(typed, source / "spells" / "part-1.parquet")
    report = ingest()
    assert counts(report, "spells") == (4, 2, 2)  # each record is in both files
    assert reasons(report, "spells") == {f"spell_id: {REPEAT}": 2}
    lines = quarantined(data_dir, "spells")
    assert {line["source_file"] for line in lines} == {"spells-text.parquet"}


def test_typed_and_text_parquet_give_the_same_stored_rows(
    source: Path, tmp_path: Path, data_dir: Path
) -> None:
    rows = rows_of("spells", [{}, {"age": "0"}])
    text = pa.Table.from_pylist(rows)
    typed = text.set_column(
        text.schema.get_field_index("age"), "age", pc.cast(text.column("age"), pa.int64())
    )
    for name in ("admission_date", "discharge_date"):
        dates = pc.cast(pc.strptime(typed.column(name), "%Y-%m-%d", "s"), pa.date32())
        typed = typed.set_column(typed.schema.get_field_index(name), name, dates)
    stored = []
    for label, table in (("text", text), ("typed", typed)):
        folder = tmp_path / label
        folder.mkdir()
        pq.write_table(table, folder / "spells.parquet")
        target = tmp_path / f"data-{label}"
        person_data.ingest(folder, target, set(AREAS), KEY, as_of=dt.date(2016, 1, 1))
        stored.append(read_kind(target, "spells"))
    assert stored[0].equals(stored[1])
    assert stored[0].num_rows == 2


def test_files_are_recognised_by_name_or_folder_and_other_files_passed_over(
    write_raw: WriteRaw, source: Path, ingest: Ingest
) -> None:
    write_raw("spells-2015.csv", "spells", [{}])
    write_raw("spells_q4.csv", "spells", [{"spell_id": "other"}])
    write_raw("delays/part-1.csv", "delays", [{}])
    write_raw("care_home_admissions.csv", "care_home_admissions", [{}])
    (source / "README.md").write_text("notes", encoding="utf-8")
    report = ingest()
    assert {k.kind: k.files for k in report.kinds} == {
        "spells": ("spells-2015.csv", "spells_q4.csv"),
        "delays": ("delays/part-1.csv",),
        "care_home_admissions": ("care_home_admissions.csv",),
    }
    assert report.skipped == ("README.md",)


def test_a_single_file_can_be_ingested(write_raw: WriteRaw, ingest: Ingest) -> None:
    path = write_raw("reablement.csv", "reablement", [{}, {}])
    assert counts(ingest(path), "reablement") == (2, 2, 0)


def test_the_manifest_records_the_vintage_of_the_inputs(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path, source: Path
) -> None:
    path = write_raw("spells.csv", "spells", [{}, {}])
    first = ingest()
    manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = hashlib.sha256(f"spells.csv\t{digest}\n".encode()).hexdigest()
    assert manifest["vintage"] == first.vintage == expected
    assert manifest["kinds"]["spells"]["accepted"] == 2
    assert manifest["kinds"]["spells"]["columns"][1] == {"name": "person_id", "type": "text"}
    assert manifest["pseudonym"]["key_id"] == first.key_id
    assert ingest().vintage == first.vintage  # same inputs, same vintage
    write_raw("spells.csv", "spells", [{}, {"age": "79"}])
    assert ingest().vintage != first.vintage


# --------------------------------------------------------------------------------------------
# Rows with problems: quarantined, located, counted


ROW_PROBLEMS = [
    # kind, the changed values, column, reason
    ("spells", {"nhs_number": "9434765918"}, "nhs_number", "is not a valid NHS number"),
    ("spells", {"nhs_number": "94347659"}, "nhs_number", "is not a valid NHS number"),
    ("spells", {"nhs_number": "0000000000"}, "nhs_number", "is not a valid NHS number"),
    ("spells", {"nhs_number": ""}, "nhs_number", "is missing"),
    (
        "spells",
        {"discharge_date": "2015-05-01"},
        "discharge_date",
        "is before admission_date",
    ),
    (
        "spells",
        {"admission_date": "1947-12-31", "discharge_date": "1948-01-02"},
        "admission_date",
        "is before 5 July 1948, when the NHS began",
    ),
    (
        "spells",
        {"admission_date": "2016-07-01", "discharge_date": "2016-07-02"},
        "admission_date",
        "is in the future",
    ),
    (
        "spells",
        {"admission_date": "2015-02-30"},
        "admission_date",
        "is not a date written YYYY-MM-DD",
    ),
    (
        "spells",
        {"admission_date": "10/05/2015"},
        "admission_date",
        "is not a date written YYYY-MM-DD",
    ),
    ("spells", {"admission_date": ""}, "admission_date", "is missing"),
    (
        "spells",
        {"area_code": "E06999999"},
        "area_code",
        "is not an area of this year's geography, nor a council merged into one",
    ),
    ("spells", {"admission_method": "emergency"}, "admission_method", SPELL_REASONS),
    ("spells", {"sex": "X"}, "sex", "is not one of: F, M"),
    ("spells", {"age": "7.5"}, "age", "is not a whole number"),
    ("spells", {"age": "old"}, "age", "is not a whole number"),
    ("spells", {"age": "130"}, "age", "is not between 0 and 120"),
    ("spells", {"age": "-1"}, "age", "is not between 0 and 120"),
    (
        "spells",
        {"primary_diagnosis": "chest pain"},
        "primary_diagnosis",
        "is not in the expected form",
    ),
    (
        "spells",
        {"secondary_diagnoses": "I10,E11.9"},
        "secondary_diagnoses",
        "is not a list of codes in the expected form, separated by ';'",
    ),
    (
        "spells",
        {"secondary_diagnoses": "I10;;E11.9"},
        "secondary_diagnoses",
        "is not a list of codes in the expected form, separated by ';'",
    ),
    (
        "spells",
        {"secondary_diagnoses": "I10;high blood pressure"},
        "secondary_diagnoses",
        "is not a list of codes in the expected form, separated by ';'",
    ),
    (
        "spells",
        {"secondary_diagnoses": ";".join(["I10"] * 20)},
        "secondary_diagnoses",
        "has more than 19 codes",
    ),
    (
        "spells",
        {"spell_id": NUMBERS[30]},
        "spell_id",
        "looks like an NHS number, which must not be kept",
    ),
    ("spells", {"spell_id": ""}, "spell_id", "is missing"),
    (
        "delays",
        {"month": "2015-06-01", "delayed_days": "31"},
        "delayed_days",
        "is more than the days in the month",
    ),
    ("delays", {"delayed_days": "0"}, "delayed_days", "is not between 1 and 31"),
    ("delays", {"month": "2015-06-15"}, "month", "is not the first day of a month"),
    ("delays", {"reason": "Z"}, "reason", "is not one of: A, B, C, D, E, F, G, H, I, O"),
    ("delays", {"responsible": "NHS"}, "responsible", "is not one of: nhs, social_care, both"),
    (
        "care_home_admissions",
        {"setting": "sheltered"},
        "setting",
        "is not one of: residential, nursing",
    ),
    (
        "care_home_admissions",
        {"previous_setting": "own_home"},
        "previous_setting",
        "is not one of: community, hospital, residential, nursing, not_known",
    ),
    (
        "reablement",
        {"status_91_days": "home"},
        "status_91_days",
        "is not one of: at_home, in_care_home, in_hospital, died, not_known",
    ),
    ("survey_responses", {"positive": "2"}, "positive", "is not between 0 and 1"),
    (
        "survey_responses",
        {"question": "Care coordination"},
        "question",
        "is not in the expected form",
    ),
]


@pytest.mark.parametrize(("kind", "change", "column", "reason"), ROW_PROBLEMS)
def test_a_row_with_a_problem_is_quarantined_with_its_place_and_reason(
    write_raw: WriteRaw,
    ingest: Ingest,
    data_dir: Path,
    kind: str,
    change: dict[str, str],
    column: str,
    reason: str,
) -> None:
    write_raw(f"{kind}.csv", kind, [{}, change, {}])
    report = ingest()
    assert counts(report, kind) == (3, 2, 1)
    assert reasons(report, kind)[f"{column}: {reason}"] == 1
    lines = quarantined(data_dir, kind)
    where = {"source_file": f"{kind}.csv", "source_row": 3, "problem_column": column}
    assert {**where, "problem": reason}.items() <= next(
        line for line in lines if line["problem_column"] == column
    ).items()
    assert {line["source_row"] for line in lines} == {3}
    key = record_kind(kind).key
    assert read_kind(data_dir, kind).column(key).to_pylist() == [
        f"{BASE[kind][key]}-1",
        f"{BASE[kind][key]}-3",
    ]


def test_a_row_with_several_problems_has_a_line_for_each_and_counts_once(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{"age": "200", "sex": "?", "nhs_number": "123"}])
    report = ingest()
    assert counts(report, "spells") == (1, 0, 1)
    lines = quarantined(data_dir, "spells")
    assert sorted(line["problem_column"] for line in lines) == ["age", "nhs_number", "sex"]
    assert {line["person_id"] for line in lines} == {""}  # invalid number: nothing shown


def test_a_quarantined_row_with_a_valid_number_shows_the_pseudonym_not_the_number(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{"age": "200"}])
    ingest()
    (line,) = quarantined(data_dir, "spells")
    assert line["person_id"] == pseudonym(NUMBERS[0], KEY)
    assert "nhs_number" not in line
    assert line["age"] == "200"


# --------------------------------------------------------------------------------------------
# Councils a year merges into one area


def cornwall_and_scilly() -> list[Area]:
    """The 2015-16 areas of a register holding Cornwall, the Isles of Scilly and one more."""
    councils = [
        Council("E06000052", "CON", "Cornwall", "UA", "South West"),
        Council("E06000053", "IOS", "Isles of Scilly", "UA", "South West"),
        Council("E06000054", "WIL", "Wiltshire", "UA", "South West"),
    ]
    return hwb_areas(councils, load_framework("2015-16").geography)


def test_a_record_coded_with_a_merged_council_is_counted_in_its_area_by_its_residents(
    write_raw: WriteRaw, source: Path, data_dir: Path
) -> None:
    """The 2015-16 framework merges the Isles of Scilly into Cornwall's Health and Wellbeing
    Board area: a Scilly resident's admission is Cornwall and Isles of Scilly's, and so are
    Scilly's residents in the denominator."""
    areas = cornwall_and_scilly()
    merged = person_data.merged_councils(areas)
    assert merged == {"E06000053": "E06000052"}
    write_raw("spells.csv", "spells", [
        {"area_code": "E06000052"}, {"area_code": "E06000053"}, {"area_code": "E06000053"},
        {"area_code": "E06000054"}, {"area_code": "E06000099"},
    ])  # fmt: skip
    codes = {area.code for area in areas}
    report = person_data.ingest(source, data_dir, codes, KEY, as_of=AS_OF, merged=merged)
    assert counts(report, "spells") == (5, 4, 1)
    spells = next(k for k in report.kinds if k.kind == "spells")
    assert spells.mapped == {"E06000053 to E06000052": 2}
    assert IngestReportOut.of(report).kinds[0].mapped == {"E06000053 to E06000052": 2}
    stored = read_kind(data_dir, "spells").column("area_code").to_pylist()
    assert stored == ["E06000052", "E06000052", "E06000052", "E06000054"]
    (line,) = quarantined(data_dir, "spells")
    assert (line["area_code"], line["problem"]) == ("E06000099", UNKNOWN_AREA)

    residents = [
        PopulationCount("E06000052", "Cornwall", 0, None, 540_000),
        PopulationCount("E06000053", "Isles of Scilly", 0, None, 2_200),
        PopulationCount("E06000054", "Wiltshire", 0, None, 480_000),
    ]
    population = resolve_populations(areas, residents, code_history([]))
    counts_by_area = [c for found in population.counts.values() for c in found]
    values = engines.compute("reference", data_dir, counts_by_area, [NON_ELECTIVE_ADMISSIONS])
    may = {v.area_code: (v.numerator, v.denominator) for v in values if v.period == "2015-05"}
    assert may == {"E06000052": (3, 542_200), "E06000054": (1, 480_000)}


def test_merged_councils_are_mapped_in_parquet_coded_columns_too(
    source: Path, data_dir: Path
) -> None:
    rows = rows_of("spells", [{"area_code": "E06000053"}, {"area_code": "E06000052"}] * 2)
    pq.write_table(pa.Table.from_pylist(rows), source / "spells.parquet")
    areas = cornwall_and_scilly()
    codes = {area.code for area in areas}
    merged = person_data.merged_councils(areas)
    report = person_data.ingest(source, data_dir, codes, KEY, as_of=AS_OF, merged=merged)
    assert counts(report, "spells") == (4, 4, 0)
    stored = read_kind(data_dir, "spells").column("area_code").to_pylist()
    assert stored == ["E06000052"] * 4


def test_without_a_merge_a_council_that_is_not_an_area_is_quarantined(
    write_raw: WriteRaw, source: Path, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{"area_code": "E06000053"}])
    report = person_data.ingest(source, data_dir, {"E06000052"}, KEY, as_of=AS_OF)
    assert reasons(report, "spells") == {f"area_code: {UNKNOWN_AREA}": 1}
    assert next(k for k in report.kinds if k.kind == "spells").mapped == {}


# --------------------------------------------------------------------------------------------
# Records that share a key


def test_an_exact_repeat_counts_once_from_its_first_row_and_the_repeats_are_quarantined(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    """A record sent twice (the same key, the same content) is one event, not none."""
    same = {"spell_id": "S9", "nhs_number": NUMBERS[3]}
    write_raw("spells-a.csv", "spells", [same, {}])
    write_raw("spells-b.csv", "spells", [same, same])
    report = ingest()
    assert counts(report, "spells") == (4, 2, 2)
    assert reasons(report, "spells") == {f"spell_id: {REPEAT}": 2}
    kept = read_kind(data_dir, "spells").column("spell_id").to_pylist()
    assert kept == ["S9", "S1-2"]
    message = (
        "spell_id S9 appears 3 times with the same content, counted once, from the first: "
        "spells-a.csv row 2, spells-b.csv row 2, spells-b.csv row 3"
    )
    lines = quarantined(data_dir, "spells")
    assert sorted((line["source_file"], line["source_row"], line["problem"]) for line in lines) == [
        ("spells-b.csv", 2, message),
        ("spells-b.csv", 3, message),
    ]
    assert {line["problem_column"] for line in lines} == {"spell_id"}


def test_rows_sharing_a_key_with_different_content_are_all_quarantined_and_named(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    write_raw("spells-a.csv", "spells", [{"spell_id": "S9"}, {}])
    write_raw("spells-b.csv", "spells", [{}, {"spell_id": "S9"}, {"spell_id": "S10"}])
    report = ingest()
    assert counts(report, "spells") == (5, 3, 2)
    assert reasons(report, "spells") == {f"spell_id: {CONFLICT}": 2}
    message = (
        "spell_id S9 appears 2 times with different content, none of them counted: "
        "spells-a.csv row 2, spells-b.csv row 3"
    )
    lines = quarantined(data_dir, "spells")
    assert sorted((line["source_file"], line["source_row"], line["problem"]) for line in lines) == [
        ("spells-a.csv", 2, message),
        ("spells-b.csv", 3, message),
    ]
    kept = read_kind(data_dir, "spells").column("spell_id").to_pylist()
    assert kept == ["S1-2", "S1-1", "S10"]


def test_a_key_with_one_differing_copy_among_exact_repeats_counts_none_of_them(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    write_raw("spells.csv", "spells", [{"spell_id": "S9", "nhs_number": NUMBERS[3]}] * 3 + [
        {"spell_id": "S9", "nhs_number": NUMBERS[3], "age": "79"}
    ])  # fmt: skip
    report = ingest()
    assert counts(report, "spells") == (4, 0, 4)
    assert reasons(report, "spells") == {f"spell_id: {CONFLICT}": 4}


def test_repeats_are_found_across_batches_and_a_long_list_of_rows_is_cut_short(
    source: Path, ingest: Ingest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "BATCH_ROWS", 3)
    same = {"spell_id": "S9", "nhs_number": NUMBERS[3]}
    rows = rows_of("spells", [same] * 13 + [{}])
    pq.write_table(pa.Table.from_pylist(rows), source / "spells.parquet", row_group_size=2)
    report = ingest()
    assert counts(report, "spells") == (14, 2, 12)
    lines = quarantined(data_dir, "spells")
    assert sorted(line["source_row"] for line in lines) == list(range(2, 14))
    listed = ", ".join(f"spells.parquet row {row}" for row in range(1, 11))
    assert {line["problem"] for line in lines} == {
        "spell_id S9 appears 13 times with the same content, counted once, from the first: "
        f"{listed}, and 3 more"
    }


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2)), min_size=2, max_size=30),
    st.integers(1, 7),
)
def test_each_key_counts_once_if_its_rows_agree_and_not_at_all_if_they_differ(
    rows: list[tuple[int, int]], batch_rows: int
) -> None:
    """Rows ``(key, age)`` in two files read a few rows at a time: a key whose rows all
    agree is kept once, from its first row; a key whose rows differ is not kept at all."""
    by_key: dict[int, list[int]] = {}
    for key, age in rows:
        by_key.setdefault(key, []).append(age)
    expected = sorted(f"S{key}" for key, ages in by_key.items() if len(set(ages)) == 1)
    changes = [
        {"spell_id": f"S{key}", "age": str(70 + age), "nhs_number": NUMBERS[0]} for key, age in rows
    ]
    middle = len(changes) // 2
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "raw"
        source.mkdir()
        (source / "spells-a.csv").write_text(csv_text("spells", changes[:middle]), "utf-8")
        (source / "spells-b.csv").write_text(csv_text("spells", changes[middle:]), "utf-8")
        before, files.BATCH_ROWS = files.BATCH_ROWS, batch_rows
        try:
            report = person_data.ingest(source, Path(folder) / "data", set(AREAS), KEY, as_of=AS_OF)
        finally:
            files.BATCH_ROWS = before
        kept = read_kind(Path(folder) / "data", "spells").to_pylist()
    assert sorted(row["spell_id"] for row in kept) == expected
    first = {f"S{key}": 70 + ages[0] for key, ages in by_key.items()}
    assert all(row["age"] == first[row["spell_id"]] for row in kept)
    assert counts(report, "spells") == (len(rows), len(expected), len(rows) - len(expected))


def test_a_duplicate_key_that_looks_like_an_nhs_number_is_hidden_in_its_message(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    same = {"spell_id": NUMBERS[30], "nhs_number": NUMBERS[3]}
    write_raw("spells.csv", "spells", [same, same])
    ingest()
    lines = quarantined(data_dir, "spells")
    assert not [line for line in lines if NUMBERS[30] in str(line)]
    assert {line["problem"][:36] for line in lines} == {
        "looks like an NHS number, which must",
        "spell_id [hidden] appears 2 times wi",
    }


def test_rows_without_a_key_are_never_duplicates_of_each_other(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    write_raw("spells.csv", "spells", [{"spell_id": ""}, {"spell_id": ""}])
    report = ingest()
    assert reasons(report, "spells") == {"spell_id: is missing": 2}


def test_a_ragged_row_is_quarantined_and_later_rows_keep_their_numbers(
    source: Path, ingest: Ingest, data_dir: Path
) -> None:
    rows = rows_of("spells", [{}, {}, {"age": "300"}])
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r.values()) for r in rows]
    lines.insert(2, ",".join(list(rows[1].values())[:-1]))  # row 3: one field short
    (source / "spells.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest()
    assert counts(report, "spells") == (4, 2, 2)
    found = {(line["source_row"], line["problem"]) for line in quarantined(data_dir, "spells")}
    assert found == {
        (3, "has 10 fields where 11 were expected"),
        (5, "is not between 0 and 120"),
    }
    assert reasons(report, "spells")["row: has 10 fields where 11 were expected"] == 1


def test_every_row_read_is_either_accepted_or_quarantined(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    changes = [change for kind, change, _, _ in ROW_PROBLEMS if kind == "spells"]
    write_raw("spells.csv", "spells", [{}, *changes, {}])
    report = ingest()
    read, accepted, held = counts(report, "spells")
    assert read == len(changes) + 2 == accepted + held
    assert accepted == 2


# --------------------------------------------------------------------------------------------
# Files that cannot be used: the whole ingest is refused and nothing is written


def refusal(ingest: Ingest) -> list[tuple[str | None, str | None, str]]:
    with pytest.raises(ImportRejected) as refused:
        ingest()
    return [(p.file, p.column, p.message) for p in refused.value.problems]


def test_an_empty_file_is_refused(source: Path, ingest: Ingest, data_dir: Path) -> None:
    (source / "spells.csv").write_bytes(b"")
    assert refusal(ingest) == [("spells.csv", None, "the file is empty")]
    assert not data_dir.exists()


def test_a_file_with_only_a_header_is_refused(write_raw: WriteRaw, ingest: Ingest) -> None:
    write_raw("delays.csv", "delays", [])
    assert refusal(ingest) == [("delays.csv", None, "has no records, only column names")]


def test_missing_and_unknown_columns_are_named(write_raw: WriteRaw, ingest: Ingest) -> None:
    columns = [c for c in record_kind("spells").column_names if c != "sex"] + ["postcode"]
    write_raw("spells.csv", "spells", [{}], columns=columns)
    assert refusal(ingest) == [
        ("spells.csv", "sex", "the column 'sex' is missing"),
        ("spells.csv", "postcode", "has a column 'postcode' that spells files do not have"),
    ]


def test_a_file_without_a_header_is_refused_without_quoting_its_first_row(
    source: Path, ingest: Ingest
) -> None:
    row = rows_of("spells", [{}])[0]
    (source / "spells.csv").write_text(",".join(row.values()) + "\n", encoding="utf-8")
    ((file, column, message),) = refusal(ingest)
    assert file == "spells.csv" and column is None
    assert message.startswith("has no header row naming the columns")
    assert NUMBERS[0] not in message


NOT_UTF8 = (
    "is not UTF-8 text: this row holds a byte that is not valid UTF-8 (the file was "
    "probably saved as Windows-1252 or Latin-1); save it as 'CSV UTF-8'"
)


def _not_utf8_refusal(ingest: Ingest) -> list[tuple[str | None, int | None, str]]:
    with pytest.raises(ImportRejected) as refused:
        ingest()
    return [(p.file, p.row, p.message) for p in refused.value.problems]


def test_a_file_that_is_not_utf8_is_refused_naming_the_row(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    path = write_raw("spells.csv", "spells", [{}, {}])
    path.write_bytes(path.read_bytes().replace(b"S1-2", b"S\xff-2"))
    assert _not_utf8_refusal(ingest) == [("spells.csv", 3, NOT_UTF8)]


def test_a_ragged_row_that_is_not_utf8_is_one_clear_refusal(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    """Arrow cannot hand such a row to Python: it printed a traceback and blamed a quote."""
    path = write_raw("spells.csv", "spells", [{}, {}])
    path.write_bytes(path.read_bytes().replace(b"S1-1", b"S1-1,caf\xe9", 1))
    assert _not_utf8_refusal(ingest) == [("spells.csv", 2, NOT_UTF8)]


def test_a_damaged_parquet_file_is_refused(source: Path, ingest: Ingest) -> None:
    (source / "spells.parquet").write_bytes(b"PAR1 this is not really parquet")
    assert refusal(ingest) == [("spells.parquet", None, "is not a readable Parquet file")]


def test_a_data_file_whose_kind_cannot_be_told_is_refused(
    write_raw: WriteRaw, ingest: Ingest
) -> None:
    write_raw("spells.csv", "spells", [{}])
    write_raw("hospital.csv", "spells", [{}])
    ((file, _, message),) = refusal(ingest)
    assert file == "hospital.csv"
    assert "cannot tell which records this file holds" in message


def test_every_file_level_problem_is_reported_together(
    source: Path, write_raw: WriteRaw, ingest: Ingest
) -> None:
    (source / "spells.csv").write_bytes(b"")
    write_raw("delays.csv", "delays", [])
    write_raw("reablement.csv", "reablement", [{}])
    assert [file for file, _, _ in refusal(ingest)] == ["delays.csv", "spells.csv"]


def test_a_refused_ingest_leaves_the_previous_data_directory_byte_for_byte(
    write_raw: WriteRaw, source: Path, ingest: Ingest, data_dir: Path, no_staging_left: None
) -> None:
    write_raw("spells.csv", "spells", [{}, {"age": "500"}])
    ingest()
    before = snapshot(data_dir)
    assert "manifest.json" in before and "spells/part-00000.parquet" in before
    write_raw("delays.csv", "delays", [{}], columns=["delay_id", "nhs_number"])
    with pytest.raises(ImportRejected):
        ingest()
    assert snapshot(data_dir) == before


def test_a_crash_while_writing_leaves_the_previous_data_directory_as_it_was(
    write_raw: WriteRaw,
    ingest: Ingest,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_staging_left: None,
) -> None:
    write_raw("spells.csv", "spells", [{}])
    ingest()
    before = snapshot(data_dir)
    write_raw("delays.csv", "delays", [{}])
    real = files.ingest_file

    def crash(found: files.FileScan, *args: Any, **kwargs: Any) -> files.KindOutcome:
        if found.file.kind.name == "delays":
            raise RuntimeError("the disk fell off")
        return real(found, *args, **kwargs)

    monkeypatch.setattr(files, "ingest_file", crash)
    with pytest.raises(RuntimeError, match="disk fell off"):
        ingest()
    assert snapshot(data_dir) == before


def test_a_folder_that_is_not_a_data_directory_is_never_replaced(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{}])
    data_dir.mkdir()
    (data_dir / "thesis.docx").write_bytes(b"years of work")
    with pytest.raises(CarepoolError, match="not a carepool data directory"):
        ingest()
    assert (data_dir / "thesis.docx").read_bytes() == b"years of work"


def test_the_data_directory_cannot_overlap_the_source(write_raw: WriteRaw, source: Path) -> None:
    write_raw("spells.csv", "spells", [{}])
    for target in (source, source / "data", source.parent):
        with pytest.raises(CarepoolError, match="overlap"):
            person_data.ingest(source, target, set(AREAS), KEY)
    assert (source / "spells.csv").exists()


def test_a_short_key_is_refused_before_anything_is_read(
    write_raw: WriteRaw, source: Path, data_dir: Path
) -> None:
    write_raw("spells.csv", "spells", [{}])
    with pytest.raises(CarepoolError, match="at least 32"):
        person_data.ingest(source, data_dir, set(AREAS), b"short")
    assert not data_dir.exists()


# --------------------------------------------------------------------------------------------
# The raw NHS number is never stored, printed or logged


def test_no_raw_nhs_number_is_stored_printed_or_logged(
    write_raw: WriteRaw,
    ingest: Ingest,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    raw = NUMBERS[:12]
    spaced = f"{raw[3][:3]} {raw[3][3:6]} {raw[3][6:]}"
    write_raw(
        "spells.csv",
        "spells",
        [
            {"nhs_number": raw[0]},
            {"nhs_number": raw[1], "age": "999"},  # quarantined, valid number
            {"nhs_number": raw[2][:-1] + str((int(raw[2][-1]) + 1) % 10)},  # invalid number
            {"nhs_number": spaced, "sex": "?"},
            {"nhs_number": raw[4], "area_code": raw[5]},  # a number in the wrong column
            {"nhs_number": raw[6], "admission_method": f"see {raw[7]}"},
        ],
    )
    write_raw(
        "delays.csv", "delays", [{"nhs_number": raw[8]}, {"nhs_number": raw[9], "reason": "Z"}]
    )
    caplog.set_level(logging.DEBUG)
    report = ingest()
    assert report.quarantined == 6
    searched = {n for n in raw} | {spaced, raw[2][:-1] + str((int(raw[2][-1]) + 1) % 10)}
    stored = b"".join(snapshot(data_dir).values())
    shown = _all_parquet_text(data_dir) + json.dumps(
        IngestReportOut.of(report).model_dump(mode="json")
    )
    printed = capsys.readouterr()
    for number in searched:
        assert number.encode() not in stored
        assert number not in shown
        assert number not in caplog.text + printed.out + printed.err
    assert re.search(r"(?<![0-9a-f])[0-9]{10}(?![0-9a-f])", shown) is None


def _all_parquet_text(folder: Path) -> str:
    """Every value of every Parquet file, as text, so compression cannot hide anything."""
    parts = []
    for path in sorted(folder.rglob("*.parquet")):
        table = pq.read_table(path)
        parts += [str(v) for column in table.columns for v in column.to_pylist()]
    return "\n".join(parts)


def test_many_people_are_pseudonymised_on_every_core_with_the_same_result(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(person_data, "PARALLEL_FROM", 2)
    write_raw("spells.csv", "spells", [{"nhs_number": n} for n in NUMBERS[:9]])
    report = ingest()
    assert report.people == 9
    stored = read_kind(data_dir, "spells").column("person_id").to_pylist()
    assert stored == [pseudonym(n, KEY) for n in NUMBERS[:9]]


def test_a_quarantined_value_does_not_linger_in_a_stored_dictionary(
    source: Path, ingest: Ingest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Parquet text is read as dictionaries shared by every batch of a row group; a value
    only a quarantined row had must not reach the stored file through one."""
    monkeypatch.setattr(files, "BATCH_ROWS", 2)
    rows = rows_of("spells", [{"area_code": NUMBERS[20]}, {}, {}, {}])
    pq.write_table(pa.Table.from_pylist(rows), source / "spells.parquet", row_group_size=4)
    report = ingest()
    assert counts(report, "spells") == (4, 3, 1)
    stored = b"".join(snapshot(data_dir / "spells").values())
    assert NUMBERS[20].encode() not in stored
    assert read_kind(data_dir, "spells").schema.field("area_code").type == pa.string()


def test_a_file_that_changes_while_it_is_read_is_refused(
    write_raw: WriteRaw, ingest: Ingest, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_raw("spells.csv", "spells", [{}, {}])
    real = files.index_people

    def and_then_append(scans: list[files.FileScan]) -> Any:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(",".join(rows_of("spells", [{}, {}, {}])[2].values()) + "\n")
        return real(scans)

    monkeypatch.setattr(files, "index_people", and_then_append)
    assert refusal(ingest) == [
        ("spells.csv", None, "changed while it was being read: ingest it again")
    ]
    assert not data_dir.exists()
