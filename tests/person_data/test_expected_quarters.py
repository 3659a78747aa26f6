"""The generator's expected values are the model its records are drawn from.

The demo's plans set their ambitions from :func:`expected_quarters`, so it must say what the
records will show: counted as the metrics count them, each area's quarters scatter around
their expected values by chance alone (Poisson), while the year as if every area carried on
as before misses each area's own change by more than chance.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carepool.domain.metric_catalogue import definition
from carepool.synth.nation import build_nation
from carepool.synth.person_level import (
    AREA_CHANGES,
    PLANNED_METRICS,
    Quarterly,
    expected_quarters,
    person_level_chunks,
)

SEED, SCALE = 2015, 0.05
Counts = dict[str, npt.NDArray[np.float64]]


def _quarter(dates: pa.ChunkedArray | pa.Array) -> npt.NDArray[np.int64]:
    """The financial quarter, 0 to 3 (April to June first), of each date."""
    month = np.asarray(pc.month(dates))
    quarter: npt.NDArray[np.int64] = (month - 4) % 12 // 3
    return quarter


def _by_quarter(
    dates: pa.ChunkedArray | pa.Array, weights: npt.NDArray[np.float64] | None = None
) -> npt.NDArray[np.float64]:
    counted: npt.NDArray[np.float64] = np.bincount(_quarter(dates), weights, minlength=4).astype(
        np.float64
    )
    return counted


class Measured:
    """The year's records counted as the planned metrics count them, by area and quarter."""

    def __init__(self) -> None:
        zeros = lambda: np.zeros(4)  # noqa: E731
        self.admissions: Counts = defaultdict(zeros)
        self.care_homes: Counts = defaultdict(zeros)
        self.delayed_days: Counts = defaultdict(zeros)
        self.at_home: Counts = defaultdict(zeros)
        self.discharged: Counts = defaultdict(zeros)
        self.positive: Counts = defaultdict(zeros)
        self.answers: Counts = defaultdict(zeros)

    def add(self, kind: str, table: pa.Table) -> None:
        area = str(table.column("area_code")[0].as_py())
        older = pc.greater_equal(table.column("age"), 65) if "age" in table.column_names else None
        if kind == "spells":
            emergency = table.filter(pc.equal(table["admission_method"], "non_elective"))
            self.admissions[area] += _by_quarter(emergency["admission_date"])
        elif kind == "care_home_admissions":
            funded = pc.is_in(table["funding"], pa.array(["council", "joint"]))
            moved = pc.is_in(table["previous_setting"], pa.array(["residential", "nursing"]))
            counted = table.filter(pc.and_(pc.and_(older, funded), pc.invert(moved)))
            self.care_homes[area] += _by_quarter(counted["admission_date"])
        elif kind == "delays":
            days = np.asarray(table["delayed_days"], dtype=np.float64)
            self.delayed_days[area] += _by_quarter(table["month"], days)
        elif kind == "reablement":
            counted = table.filter(older)
            home = np.asarray(pc.equal(counted["status_91_days"], "at_home"), dtype=np.float64)
            self.at_home[area] += _by_quarter(counted["discharge_date"], home)
            self.discharged[area] += _by_quarter(counted["discharge_date"])
        elif kind == "survey_responses":
            positive = np.asarray(table["positive"], dtype=np.float64)
            self.positive[area] += _by_quarter(table["response_date"], positive)
            self.answers[area] += _by_quarter(table["response_date"])


@pytest.fixture(scope="module")
def measured() -> Measured:
    found = Measured()
    for kind, table in person_level_chunks(seed=SEED, scale=SCALE):
        found.add(kind.name, table)
    return found


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, Quarterly]]:
    return expected_quarters(seed=SEED, scale=SCALE, changed=True)


@pytest.fixture(scope="module")
def as_before() -> dict[str, dict[str, Quarterly]]:
    return expected_quarters(seed=SEED, scale=SCALE, changed=False)


@pytest.fixture(scope="module")
def residents() -> dict[str, tuple[int, int]]:
    """Each area's residents aged 18+ and 65+ (Cornwall with the Isles of Scilly)."""
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in build_nation(SEED).populations:
        area = "E06000052" if row.geo_code == "E06000053" else row.geo_code
        found[area][0] += row.persons if row.age_from >= 18 else 0
        found[area][1] += row.persons if row.age_from >= 65 else 0
    return {area: (adults, older) for area, (adults, older) in found.items()}


def _values(model: dict[str, dict[str, Quarterly]], metric: str) -> npt.NDArray[np.float64]:
    return np.array([model[code][metric] for code in sorted(model)], dtype=np.float64)


def _dispersion(observed: npt.NDArray[np.float64], mean: npt.NDArray[np.float64]) -> float:
    """Pearson's dispersion index: about 1 when counts differ from ``mean`` by chance alone."""
    return float(((observed - mean) ** 2 / mean).mean())


def test_every_area_has_each_planned_metric_of_the_catalogue(
    expected: dict[str, dict[str, Quarterly]],
) -> None:
    assert len(expected) == 151
    for metric in PLANNED_METRICS:
        assert definition(metric).id == metric
    assert all(set(metrics) == set(PLANNED_METRICS) for metrics in expected.values())
    survey = _values(expected, "patient_experience")
    assert np.isnan(survey[:, :3]).all() and (survey[:, 3] > 40).all(), "asked only in Q4"


def test_emergency_admissions_scatter_around_their_expected_values_by_chance_alone(
    measured: Measured,
    expected: dict[str, dict[str, Quarterly]],
    as_before: dict[str, dict[str, Quarterly]],
) -> None:
    """Each area's quarterly count against its expected count is Poisson (dispersion ~1);
    against the year as if it had carried on as before it is not, because areas change."""
    observed = np.array([measured.admissions[code] for code in sorted(expected)])
    assert observed.sum() == pytest.approx(6_000_000 * SCALE, rel=0.05)
    assert 0.8 < _dispersion(observed, _values(expected, "non_elective_admissions")) < 1.25
    assert _dispersion(observed, _values(as_before, "non_elective_admissions")) > 1.5


def test_rates_and_percentages_are_what_the_records_show(
    measured: Measured,
    expected: dict[str, dict[str, Quarterly]],
    residents: dict[str, tuple[int, int]],
) -> None:
    """England's quarterly rates and percentages, worked out from the expected values by
    residents, match what the records show."""
    codes = sorted(expected)
    adults = np.array([[residents[code][0]] for code in codes], dtype=np.float64)
    older = np.array([[residents[code][1]] for code in codes], dtype=np.float64)

    def counts(found: Counts) -> npt.NDArray[np.float64]:
        return np.array([found[code] for code in codes])

    homes = _values(expected, "care_home_admissions_65_plus") * older / 100_000
    assert counts(measured.care_homes).sum(axis=0) == pytest.approx(homes.sum(axis=0), rel=0.06)
    days = _values(expected, "delayed_transfers_of_care") * adults / 100_000
    assert counts(measured.delayed_days).sum(axis=0) == pytest.approx(days.sum(axis=0), rel=0.06)
    discharged = counts(measured.discharged)
    at_home = _values(expected, "reablement_91_days") * discharged / 100
    assert counts(measured.at_home).sum(axis=0) == pytest.approx(at_home.sum(axis=0), rel=0.02)
    answers = counts(measured.answers)[:, 3]
    positive = _values(expected, "patient_experience")[:, 3] * answers / 100
    assert counts(measured.positive)[:, 3].sum() == pytest.approx(positive.sum(), rel=0.02)
    assert counts(measured.answers)[:, :3].sum() == 0


def test_an_areas_change_shows_half_at_once_and_all_by_the_years_end(
    expected: dict[str, dict[str, Quarterly]], as_before: dict[str, dict[str, Quarterly]]
) -> None:
    """Relative to carrying on as before, areas' emergency admissions move by a quarter and
    more of their change in the first quarter and by nearly all of it in the last, so the
    spread between areas widens through the year, about the mean change."""
    ratio = _values(expected, "non_elective_admissions") / _values(
        as_before, "non_elective_admissions"
    )
    mean, spread = AREA_CHANGES["non_elective"]
    first, last = ratio[:, 0] - 1, ratio[:, 3] - 1
    assert np.sign(first) == pytest.approx(np.sign(last))
    assert last.std() > first.std() * 1.5
    assert last.mean() == pytest.approx(mean * 0.94, abs=spread / 4)
    assert first.mean() == pytest.approx(mean * 0.56, abs=spread / 4)


def test_the_same_seed_gives_the_same_expectations() -> None:
    again = expected_quarters(seed=SEED, scale=SCALE)
    assert again == expected_quarters(seed=SEED, scale=SCALE)
    assert again != expected_quarters(seed=SEED + 1, scale=SCALE)
    tenfold = expected_quarters(seed=SEED, scale=SCALE * 10)
    code = next(iter(again))
    admissions = again[code]["non_elective_admissions"]
    assert tenfold[code]["non_elective_admissions"] == pytest.approx(
        tuple(10 * (q or 0) for q in admissions)
    )
