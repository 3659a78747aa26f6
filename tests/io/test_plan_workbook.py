"""The plan as an Excel template: what goes out comes back exactly, and bad edits are named.

An area downloads its plan, fills in the yellow cells and uploads it. Reading must give back
exactly the plan that was written (money to the penny, ambitions to the last decimal digit,
rows in order), and every mistake a person can make in Excel must come back as a problem
that names the sheet and cell to fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import random
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carepool.domain.errors import ImportRejected
from carepool.domain.money import MAX_PENCE, Pence
from carepool.domain.plan import (
    Ambition,
    ConditionConfirmation,
    Contribution,
    PlanContent,
    Section75,
)
from carepool.domain.plan_rules import PlanContext
from carepool.frameworks import load_framework
from carepool.plans.files.workbook import WorkbookMeta, read_plan_workbook, write_plan_workbook
from carepool.plans.files.workbook_read import MAX_BYTES, SPARE_SCHEME_ROWS
from carepool.synth.plans import synthetic_plan

Write = Callable[[str, str | bytes], Path]  # the ``write`` fixture of tests/io/conftest.py

COUNCIL, CCG_A, CCG_B = "E10000099", "E38000001", "E38000002"
YELLOW, GREY = "00FFF2CC", "00D9D9D9"
FLAWS = ("none", "social_care_short", "schemes_short", "no_narrative", "grant_to_county")


def _context(year: str, kind: str) -> PlanContext:
    """A county with two districts, or a unitary, with two CCGs, for either framework."""
    framework = load_framework(year)
    minimums: dict[tuple[str, str, str], Pence] = {}
    for index, fy in enumerate(framework.financial_years):
        for stream in framework.streams:
            payers = [CCG_A, CCG_B] if stream.payer == "commissioner" else [COUNCIL]
            for n, partner in enumerate(payers):
                amount = (sum(stream.totals.values()) // 1000 + index * 12_345) // (n + 1)
                minimums[(fy, stream.id, partner)] = Pence(amount)
    return PlanContext(
        framework=framework,
        area_code=COUNCIL,
        area_kind=kind,
        partners={CCG_A: "NHS North CCG", CCG_B: "NHS South CCG", COUNCIL: "Shire Council"},
        minimums=minimums,
        districts=("Northdale", "Southdale") if kind == "CTY" else (),
    )


CONTEXTS = {(y, k): _context(y, k) for y in ("2015-16", "2017-19") for k in ("CTY", "UA")}


def _meta(context: PlanContext) -> WorkbookMeta:
    framework = context.framework
    return WorkbookMeta(framework.template.version, framework.year, COUNCIL, "Shire", 3, 7)


def _workbook(content: PlanContent, context: PlanContext) -> bytes:
    target = io.BytesIO()
    write_plan_workbook(target, content, context, _meta(context))
    return target.getvalue()


def _read(data: bytes, year: str = "2015-16") -> tuple[WorkbookMeta, PlanContent]:
    return read_plan_workbook(io.BytesIO(data), "plan.xlsx", load_framework(year))


def _good(context: PlanContext | None = None) -> PlanContent:
    return synthetic_plan(context or CONTEXTS[("2015-16", "CTY")], 500_000, random.Random(1))


def _edited(edit: Callable[[Workbook], None], content: PlanContent | None = None) -> bytes:
    """A good workbook after a person's edit, saved as Excel would."""
    workbook = openpyxl.load_workbook(
        io.BytesIO(_workbook(content or _good(), CONTEXTS[("2015-16", "CTY")]))
    )
    edit(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _problems(data: bytes, year: str = "2015-16") -> list[tuple[str | None, str]]:
    with pytest.raises(ImportRejected) as caught:
        _read(data, year)
    assert "nothing was imported" in caught.value.message
    return [(p.cell or p.key, p.message) for p in caught.value.problems]


CellInput = str | int | float | None


def _set(sheet: str, cell: str, value: CellInput) -> Callable[[Workbook], None]:
    def edit(workbook: Workbook) -> None:
        workbook[sheet][cell] = value

    return edit


# --- Round trip ---------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    flaw=st.sampled_from(FLAWS),
    which=st.sampled_from(sorted(CONTEXTS)),
    population=st.integers(2_000, 1_500_000),
)
def test_a_synthetic_plan_comes_back_exactly(
    seed: int, flaw: str, which: tuple[str, str], population: int
) -> None:
    context = CONTEXTS[which]
    content = synthetic_plan(context, population, random.Random(seed), flaw)  # type: ignore[arg-type]
    meta, read = _read(_workbook(content, context), context.framework.year)
    assert read == content
    assert meta == _meta(context)
    assert read.model_dump(mode="json") == content.model_dump(mode="json")


_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\ufffe\uffff"))


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.none() | st.decimals(allow_nan=False, allow_infinity=False), min_size=5, max_size=5
    ),
    pence=st.integers(0, MAX_PENCE),
    text=_TEXT,
    parameters=st.dictionaries(
        st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3
    ),
)
def test_awkward_values_come_back_exactly(
    values: list[Decimal | None], pence: int, text: str, parameters: dict[str, object]
) -> None:
    """Any decimal, any amount up to the £1 trillion limit, control characters, formula text."""
    good = _good()
    content = good.model_copy(
        update={
            "contributions": (good.contributions[0].model_copy(update={"additional": pence}),),
            "ambitions": (
                Ambition(metric="local_metric", baseline=values[0], quarters=tuple(values[1:])),
            ),
            "conditions": (
                ConditionConfirmation(condition="seven_day_services", evidence=text[:4000]),
            ),
            "section75": Section75(risk_share_parameters=parameters, pool_manager=f"={text}"),
            "narrative": f"{text}\r\n{text}"[:20000],
        }
    )
    content = PlanContent.model_validate(content.model_dump())  # strips text, as stored
    assert _read(_workbook(content, CONTEXTS[("2015-16", "CTY")]))[1] == content


def test_a_new_plan_with_blanks_everywhere_comes_back_exactly() -> None:
    """What carepool pre-fills before the area writes anything: no statuses, no ambitions."""
    context = CONTEXTS[("2017-19", "UA")]
    framework = context.framework
    content = PlanContent(
        contributions=tuple(
            Contribution(financial_year=y, stream=s, partner_code=p, minimum=amount)
            for (y, s, p), amount in sorted(context.minimums.items())
        ),
        ambitions=tuple(Ambition(metric=m.metric) for m in framework.metrics),
        conditions=tuple(
            ConditionConfirmation(condition=c.id) for c in framework.national_conditions
        ),
    )
    assert _read(_workbook(content, context), "2017-19")[1] == content


def test_the_workbook_can_be_written_to_a_path(tmp_path: Path) -> None:
    context = CONTEXTS[("2015-16", "UA")]
    content = _good(context)
    path = tmp_path / "plan.xlsx"
    write_plan_workbook(path, content, context, _meta(context))
    assert read_plan_workbook(path, path.name, context.framework) == (_meta(context), content)


def test_amounts_a_spreadsheet_cannot_hold_to_the_penny_are_refused() -> None:
    good = _good()
    huge = good.contributions[0].model_copy(update={"additional": 10**15})
    with pytest.raises(Exception, match="too large for a spreadsheet"):
        _workbook(good.model_copy(update={"contributions": (huge,)}), CONTEXTS[("2015-16", "CTY")])


# --- What the workbook promises --------------------------------------------------------


@pytest.fixture(scope="module")
def sheets() -> Workbook:
    return openpyxl.load_workbook(io.BytesIO(_workbook(_good(), CONTEXTS[("2015-16", "CTY")])))


def test_the_sheets_follow_the_framework_template(sheets: Workbook) -> None:
    framework = load_framework("2015-16")
    assert sheets.sheetnames == [*framework.template.sheets, "Lists"]
    assert sheets["Lists"].sheet_state == "hidden"
    assert sheets.security is not None and sheets.security.lockStructure


def test_the_cover_identifies_the_plan_in_grey_locked_cells(sheets: Workbook) -> None:
    cover = sheets["Cover"]
    assert [cover[f"B{r}"].value for r in range(4, 10)] == [
        "bcf-2015-16.1",
        "2015-16",
        COUNCIL,
        "Shire",
        3,
        7,
    ]
    for row in range(4, 10):
        assert cover[f"B{row}"].fill.fgColor.rgb == GREY
        assert cover[f"B{row}"].protection.locked


@pytest.mark.parametrize(
    ("sheet", "cell", "colour"),
    [
        ("Contributions", "E4", GREY),  # partner name
        ("Contributions", "F4", GREY),  # minimum
        ("Contributions", "G4", YELLOW),  # additional
        ("Schemes", "A4", YELLOW),
        ("Schemes", "J4", YELLOW),
        ("Metrics", "C4", GREY),  # metric name
        ("Metrics", "D4", YELLOW),
        ("Conditions", "B4", GREY),  # condition title
        ("Conditions", "C4", YELLOW),
        ("Section 75", "B4", YELLOW),
        ("Narrative", "A4", YELLOW),
    ],
)
def test_input_cells_are_yellow_and_unlocked_prefilled_cells_grey_and_locked(
    sheets: Workbook, sheet: str, cell: str, colour: str
) -> None:
    target = sheets[sheet][cell]
    assert target.fill.fgColor.rgb == colour
    assert target.protection.locked == (colour == GREY)


def test_spare_scheme_rows_are_left_for_new_schemes(sheets: Workbook) -> None:
    last = 3 + len(_good().schemes) + SPARE_SCHEME_ROWS
    schemes = sheets["Schemes"]
    assert schemes[f"J{last}"].fill.fgColor.rgb == YELLOW
    assert schemes[f"J{last}"].value is None
    assert not schemes[f"J{last}"].protection.locked


def test_money_is_shown_in_pounds(sheets: Workbook) -> None:
    cell = sheets["Contributions"]["F4"]
    assert cell.value == _good().contributions[0].minimum / 100
    assert cell.number_format == '"£"#,##0.00'


def test_every_sheet_is_protected_without_a_password(sheets: Workbook) -> None:
    for sheet in sheets.worksheets:
        assert sheet.protection.sheet, sheet.title
        assert not sheet.protection.password, sheet.title


def _validations(sheets: Workbook, sheet: str) -> dict[str, str]:
    """Each validated range and the list (or kind) it offers."""
    return {
        str(dv.sqref): dv.formula1 if dv.type == "list" else dv.type
        for dv in sheets[sheet].data_validations.dataValidation
    }


def test_drop_downs_come_from_the_framework(sheets: Workbook) -> None:
    last = 3 + len(_good().schemes) + SPARE_SCHEME_ROWS
    schemes = _validations(sheets, "Schemes")
    lists = sheets["Lists"]
    scheme_types = schemes[f"C4:C{last}"]
    cells = lists[scheme_types.split("!")[1].replace("$", "")]
    assert tuple(row[0].value for row in cells) == load_framework("2015-16").scheme_types
    for column in "CDFGHI":
        assert f"{column}4:{column}{last}" in schemes
    assert "C4:C9" in _validations(sheets, "Conditions")
    section75 = _validations(sheets, "Section 75")
    assert {"B4", "B6", "B8"} <= set(section75)
    assert section75["B9"] == "date"
    funding = lists[schemes[f"F4:F{last}"].split("!")[1].replace("$", "")]
    assert [row[0].value for row in funding][-1] == "additional"


def test_the_checklist_turns_green_or_red_by_formula(sheets: Workbook) -> None:
    checklist = sheets["Checklist"]
    sections = [checklist[f"A{r}"].value for r in range(4, 10)]
    assert sections == [
        "Contributions",
        "Schemes",
        "Metrics",
        "Conditions",
        "Section 75",
        "Narrative",
    ]
    assert str(checklist["B5"].value).startswith("=IF(AND(COUNT(Schemes!$J$4:")
    rules = [rule for ranges in checklist.conditional_formatting for rule in ranges.rules]
    assert len(rules) == 2 and all(rule.type == "expression" for rule in rules)
    assert {str(r.formula[0]) for r in rules} == {'$B4="Complete"', 'NOT($B4="Complete")'}
    assert checklist["A12"].value == "at export: no findings; every rule passed"


def test_the_checklist_lists_the_findings_at_export() -> None:
    context = CONTEXTS[("2015-16", "CTY")]
    flawed = synthetic_plan(context, 500_000, random.Random(1), "no_narrative")
    checklist = openpyxl.load_workbook(io.BytesIO(_workbook(flawed, context)))["Checklist"]
    assert checklist["A12"].value.startswith("at export: error: Narrative")


def test_a_sheet_the_layout_does_not_know_is_a_placeholder() -> None:
    context = CONTEXTS[("2017-19", "CTY")]
    workbook = openpyxl.load_workbook(io.BytesIO(_workbook(_good(context), context)))
    assert "completed online in carepool" in workbook["HICM"]["A2"].value
    assert workbook.sheetnames.index("HICM") == 5


def test_text_that_looks_like_a_formula_is_written_as_text() -> None:
    good = _good()
    content = good.model_copy(update={"narrative": '=HYPERLINK("http://example.com","x")'})
    workbook = openpyxl.load_workbook(io.BytesIO(_workbook(content, CONTEXTS[("2015-16", "CTY")])))
    assert workbook["Narrative"]["A4"].data_type == "s"


# --- Refusals ------------------------------------------------------------------------------


def test_a_workbook_of_another_template_is_refused_at_once() -> None:
    problems = _problems(_workbook(_good(), CONTEXTS[("2015-16", "CTY")]), "2017-19")
    assert problems == [
        (
            "Cover!B4",
            "this workbook is template bcf-2015-16.1 but the 2017-19 plan needs "
            "template bcf-2017-19.1; download a fresh template and copy your entries into it",
        )
    ]


def test_missing_sheets_are_named() -> None:
    def remove(workbook: Workbook) -> None:
        workbook.security = None
        del workbook["Metrics"]
        del workbook["Section 75"]

    problems = _problems(_edited(remove))
    assert [key for key, _ in problems] == ["Metrics", "Section 75"]
    assert "no sheet named 'Metrics'" in problems[0][1]


@pytest.mark.parametrize(
    ("sheet", "cell", "value", "message"),
    [
        ("Schemes", "J5", "lots", "Schemes!J5: 'lots' is not an amount of money"),
        ("Schemes", "J5", "£12.345", "Schemes!J5: '£12.345' is not an amount of money"),
        ("Schemes", "J4", 12.345, "Schemes!J4: £12.345 has a fraction of a penny"),
        ("Contributions", "G4", -5, "Contributions!G4: -5 is negative"),
        ("Contributions", "G5", "-£5.00", "Contributions!G5: '-£5.00' is negative"),
        (
            "Contributions",
            "G4",
            1e20,
            "Contributions!G4: £100,000,000,000,000,000,000 is more"
            " than carepool accepts (£1,000,000,000,000)",
        ),
        ("Schemes", "J4", 1e308, "Schemes!J4: £100,000,000"),
        (
            "Schemes",
            "J5",
            "9" * 30,
            "Schemes!J5: £999,999,999,999,999,999,999,999,999,999.00 is"
            " more than carepool accepts (£1,000,000,000,000)",
        ),
        ("Schemes", "J4", "=J5*2", "Schemes!J4: holds a formula (=J5*2) instead of a value"),
        ("Metrics", "E4", "=D4*0.9", "Metrics!E4: holds a formula (=D4*0.9)"),
        ("Schemes", "C4", "Magic", "Schemes!C4: 'Magic' is not an allowed scheme type"),
        ("Schemes", "D6", "Council", "Schemes!D6: 'Council' is not an allowed commissioner"),
        ("Schemes", "I4", "2016-17", "Schemes!I4: '2016-17' is not an allowed financial year"),
        ("Conditions", "C5", "Nearly", "Conditions!C5: 'Nearly' is not an allowed status"),
        ("Metrics", "D5", "about 300", "Metrics!D5: 'about 300' is not a number"),
        ("Section 75", "B9", "31/02/2015", "'Section 75'!B9: '31/02/2015' is not a real date"),
        ("Section 75", "B9", "March", "'Section 75'!B9: 'March' is not a date"),
        ("Section 75", "B8", "3", "'Section 75'!B8: Input should be 1, 2, 4 or 12"),
        ("Section 75", "B7", "60%", "'Section 75'!B7: write the parameters as JSON"),
        ("Section 75", "B7", '{"cap": NaN}', "'Section 75'!B7: write the parameters as JSON"),
        ("Section 75", "B7", '{"cap": 1e309}', "'Section 75'!B7: write the parameters as JSON"),
        ("Metrics", "D5", "３００", "Metrics!D5: '３００' is not a number"),
        ("Schemes", "B4", "x" * 201, "Schemes!B4: String should have at most 200 characters"),
        ("Cover", "B9", "seven", "Cover!B9: 'seven' is not a whole number"),
        ("Cover", "B5", "2016-17", "Cover!B5: the workbook is for 2016-17, not 2015-16"),
        ("Conditions", "D4", "x" * 4001, "Conditions!D4: String should have at most 4000"),
        ("Narrative", "A4", "x" * 20001, "Narrative!A4: String should have at most 20000"),
    ],
)
def test_a_bad_cell_is_named_with_what_is_wrong(
    sheet: str, cell: str, value: CellInput, message: str
) -> None:
    problems = _problems(_edited(_set(sheet, cell, value)))
    assert len(problems) == 1, problems
    cell_ref, text = problems[0]
    assert f"{cell_ref}: {text}".startswith(message), (cell_ref, text)


def test_a_half_filled_scheme_row_names_the_blank_cells() -> None:
    row = 4 + len(_good().schemes) + 3

    def half(workbook: Workbook) -> None:
        values: tuple[CellInput, ...] = ("S99", "Falls service", 1000)
        for column, value in zip("ABJ", values, strict=True):
            workbook["Schemes"][f"{column}{row}"] = value

    [(key, message)] = _problems(_edited(half))
    assert key == f"Schemes!C{row}"
    assert f"Scheme type (C{row}), Commissioner (D{row}), Provider (E{row})" in message
    assert "fill in the rest of the row or clear it" in message


def test_every_problem_is_reported_together() -> None:
    def many(workbook: Workbook) -> None:
        for edit in (_set("Schemes", "J4", "lots"), _set("Schemes", "C5", "Magic"),
                     _set("Metrics", "D4", "n/a"), _set("Cover", "B8", "x")):  # fmt: skip
            edit(workbook)

    keys = [str(key) for key, _ in _problems(_edited(many))]
    assert sorted(keys) == ["Cover!B8", "Metrics!D4", "Schemes!C5", "Schemes!J4"]


def test_empty_scheme_rows_are_skipped_and_new_ones_read() -> None:
    row = 4 + len(_good().schemes) + 10
    values = ("S99", "Falls service", "Reablement", "NHS", "Community trust", "additional",
              "Community health", "New", "2015-16", "£1,234.56")  # fmt: skip

    def add(workbook: Workbook) -> None:
        for column, value in zip("ABCDEFGHIJ", values, strict=True):
            workbook["Schemes"][f"{column}{row}"] = value

    _, content = _read(_edited(add))
    assert content.schemes[:-1] == _good().schemes
    assert content.schemes[-1].planned_spend == 123456
    assert content.schemes[-1].scheme_type == "Reablement"


def test_choices_are_matched_without_regard_to_case() -> None:
    _, content = _read(_edited(_set("Schemes", "C4", "reablement")))
    assert content.schemes[0].scheme_type == "Reablement"


def test_amounts_typed_as_numbers_or_text_are_read_exactly() -> None:
    def amounts(workbook: Workbook) -> None:
        workbook["Schemes"]["J4"] = 0.1
        workbook["Schemes"]["J5"] = "1,000,000.5"
        workbook["Contributions"]["G4"] = None  # blank: nothing additional

    _, content = _read(_edited(amounts))
    assert [s.planned_spend for s in content.schemes[:2]] == [10, 100_000_050]
    assert content.contributions[0].additional == 0


def test_a_date_typed_as_text_is_read_in_the_uk_order() -> None:
    _, content = _read(_edited(_set("Section 75", "B9", "03/02/2015")))
    assert content.section75.signed == dt.date(2015, 2, 3)


def test_a_changed_cover_is_read_into_the_meta() -> None:
    meta, _ = _read(_edited(_set("Cover", "B9", 8)))
    assert meta == dataclasses.replace(_meta(CONTEXTS[("2015-16", "CTY")]), lock_version=8)


def test_a_file_that_is_not_a_workbook_is_refused(write: Write) -> None:
    path = write("plan.xlsx", "ref,name\nS1,Reablement\n")
    with pytest.raises(ImportRejected, match=r"not an Excel \.xlsx workbook"):
        read_plan_workbook(path, path.name, load_framework("2015-16"))


def test_a_password_protected_workbook_is_refused() -> None:
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert "password-protected" in _problems(encrypted)[0][1]


def test_a_damaged_workbook_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("[Content_Types].xml", "<not really")
    assert "the file is damaged" in _problems(archive.getvalue())[0][1]


def test_an_oversized_file_is_refused(write: Write) -> None:
    path = write("plan.xlsx", b"PK\x03\x04" + bytes(MAX_BYTES))
    with pytest.raises(ImportRejected, match="larger than 5 MB"):
        read_plan_workbook(path, path.name, load_framework("2015-16"))
    assert "larger than 5 MB" in _problems(b"PK\x03\x04" + bytes(MAX_BYTES))[0][1]


def test_a_workbook_that_unpacks_hugely_is_refused() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/bomb.xml", bytes(60 * 1024 * 1024))
    assert "unpacks to more than the 50 MB" in _problems(archive.getvalue())[0][1]


def test_a_sheet_with_too_many_rows_is_refused() -> None:
    [(key, message)] = _problems(_edited(_set("Schemes", "A2500", "S2500")))
    assert key == "Schemes!A2500"
    assert "data below row 2000" in message
