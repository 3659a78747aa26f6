"""Rolling a joint plan forward: next year's plan starts from last year's approved one.

Areas rewrote their plans from scratch every year, in a new template, and the BCF's own
reviews counted that among the burdens. Rolling forward keeps what still holds (schemes,
extra money pooled, Section 75 terms, confirmed conditions, the narrative) and says plainly
what the new year's framework changes: streams that ended or started, minimums that moved,
conditions to confirm, metrics replaced or relabelled, scheme types no longer listed.

Money stays exact. Each partner's minimum is the new year's published allocation; what it
pooled on top is carried at the same cash amount; each stream's schemes are scaled together
to the stream's new total by largest remainder, so schemes still add up to the pool.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from carepool.domain.framework import Framework
from carepool.domain.money import format_money, split_by_weights
from carepool.domain.plan import (
    Ambition,
    ConditionConfirmation,
    Contribution,
    NewOrExisting,
    PlanContent,
    Scheme,
    Section75,
)
from carepool.domain.plan_rules import PlanContext

ADDITIONAL = "additional"
"""The funding source of schemes paid from money pooled beyond the streams."""


class ChangeKind(StrEnum):
    """What a roll-forward found; values are the headings people see."""

    STREAM_ENDED = "Stream no longer exists"
    STREAM_NEW = "New funding stream"
    MINIMUM_CHANGED = "Minimum contribution changed"
    PARTNER_GONE = "Partner no longer in the area"
    SCHEME_DROPPED = "Scheme not carried forward"
    SCHEME_TYPE_GONE = "Scheme type no longer listed"
    CONDITION_NEW = "New condition to confirm"
    CONDITION_CARRIED = "Condition carried forward"
    CONDITION_ENDED = "Condition no longer asked"
    METRIC_NEW = "New metric"
    METRIC_ENDED = "Metric replaced or ended"
    METRIC_CONTINUES = "Ambition to set again"
    SECTION75 = "Section 75 agreement"
    PAYMENT = "Payment design changed"


MUST_CHANGE = frozenset(
    {
        ChangeKind.STREAM_NEW,
        ChangeKind.SCHEME_TYPE_GONE,
        ChangeKind.CONDITION_NEW,
        ChangeKind.METRIC_NEW,
        ChangeKind.METRIC_CONTINUES,
        ChangeKind.SECTION75,
    }
)
"""Kinds that leave the new plan incomplete until someone acts; the rest are to check."""


@dataclass(frozen=True, slots=True)
class Change:
    """One thing the new year changes, in the plan section where it is fixed."""

    kind: ChangeKind
    section: str
    subject: str
    message: str

    @property
    def must_change(self) -> bool:
        return self.kind in MUST_CHANGE


@dataclass(frozen=True, slots=True)
class RolledForward:
    content: PlanContent
    changes: tuple[Change, ...]


def roll_forward(previous: PlanContent, old: Framework, context: PlanContext) -> RolledForward:
    """The new year's plan from last year's approved ``previous``, and what must change.

    ``old`` is the framework ``previous`` was written under; ``context`` the area's facts in
    the new year (its framework, partners and published minimums).
    """
    new = context.framework
    last_year = old.financial_years[-1]
    contributions, money_changes = _contributions(previous, last_year, context)
    schemes, scheme_changes = _schemes(previous, last_year, contributions, context)
    ambitions, metric_changes = _ambitions(previous, old, context)
    conditions, condition_changes = _conditions(previous, old, new)
    section75, terms_changes = _section75(previous, context)
    content = PlanContent(
        contributions=contributions,
        schemes=schemes,
        ambitions=ambitions,
        conditions=conditions,
        section75=section75,
        narrative=previous.narrative,
    )
    changes = (
        *money_changes,
        *scheme_changes,
        *condition_changes,
        *metric_changes,
        *terms_changes,
        *_payment(old, new),
    )
    return RolledForward(content, tuple(changes))


def _contributions(
    previous: PlanContent, last_year: str, context: PlanContext
) -> tuple[tuple[Contribution, ...], list[Change]]:
    """New minimums from the allocation, and last year's extra money where it can still go."""
    framework = context.framework
    streams = {s.id for s in framework.streams}
    extra: dict[tuple[str, str], int] = defaultdict(int)
    changes: list[Change] = []
    for c in previous.contributions:
        if c.financial_year != last_year or not c.additional:
            continue
        if c.stream in streams and c.partner_code in context.partners:
            extra[(c.stream, c.partner_code)] += c.additional
        else:
            why = "the stream has ended" if c.stream not in streams else "it is no longer a partner"
            changes.append(
                Change(
                    ChangeKind.PARTNER_GONE if c.stream in streams else ChangeKind.STREAM_ENDED,
                    "Contributions",
                    f"{c.stream} / {c.partner_code}",
                    f"{format_money(c.additional)} pooled on top of the minimum by "
                    f"{c.partner_code} from {c.stream} is not carried forward: {why}",
                )
            )
    given: set[tuple[str, str]] = set()
    rows: list[Contribution] = []
    for (year, stream, partner), minimum in sorted(context.minimums.items()):
        additional = extra.get((stream, partner), 0)
        given.add((stream, partner))
        rows.append(
            Contribution(
                financial_year=year,
                stream=stream,
                partner_code=partner,
                minimum=minimum,
                additional=additional,
            )
        )
    for (stream, partner), amount in sorted(extra.items()):
        if (stream, partner) not in given:
            rows.extend(
                Contribution(
                    financial_year=y, stream=stream, partner_code=partner, additional=amount
                )
                for y in framework.financial_years
            )
    changes.extend(_minimum_changes(previous, last_year, context))
    return tuple(rows), changes


def _minimum_changes(
    previous: PlanContent, last_year: str, context: PlanContext
) -> Iterable[Change]:
    """Each stream's minimum last year against the new first year's, and streams gone or new."""
    framework = context.framework
    first_year = framework.financial_years[0]
    before: dict[str, int] = defaultdict(int)
    for c in previous.contributions:
        if c.financial_year == last_year:
            before[c.stream] += c.minimum
    after: dict[str, int] = defaultdict(int)
    for (year, stream, _), amount in context.minimums.items():
        if year == first_year:
            after[stream] += amount
    for stream in sorted(set(before) | set(after)):
        old, new = before.get(stream), after.get(stream)
        name = _stream_name(framework, stream)
        if new is None:
            yield Change(
                ChangeKind.STREAM_ENDED,
                "Contributions",
                stream,
                f"{stream} ({format_money(old or 0)} minimum in {last_year}) is not a "
                f"stream of {framework.year}",
            )
        elif old is None:
            yield Change(
                ChangeKind.STREAM_NEW,
                "Schemes",
                stream,
                f"{name} is new in {framework.year}: plan what its "
                f"{format_money(new)} minimum in {first_year} pays for",
            )
        elif old != new:
            yield Change(
                ChangeKind.MINIMUM_CHANGED,
                "Contributions",
                stream,
                f"{name}: the minimum is {format_money(new)} in {first_year}, against "
                f"{format_money(old)} in {last_year} ({_percent(old, new)})",
            )


def _stream_name(framework: Framework, stream: str) -> str:
    try:
        return framework.stream(stream).name
    except KeyError:
        return stream


def _percent(old: int, new: int) -> str:
    if not old:
        return "new"
    tenths = (abs(new - old) * 1000 + old // 2) // old
    sign = "+" if new >= old else "-"
    return f"{sign}{tenths // 10}.{tenths % 10}%"


def _schemes(
    previous: PlanContent,
    last_year: str,
    contributions: tuple[Contribution, ...],
    context: PlanContext,
) -> tuple[tuple[Scheme, ...], list[Change]]:
    """Last year's schemes again in each new year, each stream's scaled to its new total."""
    framework = context.framework
    sources = {s.id for s in framework.streams} | {ADDITIONAL}
    old_totals = _stream_totals(c for c in previous.contributions if c.financial_year == last_year)
    carried: list[Scheme] = []
    changes: list[Change] = []
    for s in previous.schemes:
        if s.financial_year != last_year:
            continue
        if s.funding_source not in sources:
            changes.append(
                Change(
                    ChangeKind.SCHEME_DROPPED,
                    "Schemes",
                    s.ref,
                    f"{s.name} ({format_money(s.planned_spend)}) was paid from "
                    f"{s.funding_source}, which has ended",
                )
            )
            continue
        carried.append(s)
    schemes: list[Scheme] = []
    for year in framework.financial_years:  # one scheme, its amount in each year
        totals = _stream_totals(c for c in contributions if c.financial_year == year)
        for scheme in _scaled(carried, old_totals, totals):
            schemes.append(
                scheme.model_copy(
                    update={
                        "financial_year": year,
                        "new_or_existing": NewOrExisting.EXISTING,
                    }
                )
            )
    changes.extend(_listed(carried, framework))
    return tuple(schemes), changes


def _stream_totals(contributions: Iterable[Contribution]) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for c in contributions:
        totals[c.stream] += c.total
    return totals


def _scaled(
    schemes: list[Scheme], old_totals: Mapping[str, int], new_totals: Mapping[str, int]
) -> list[Scheme]:
    """Each stream's schemes in the same proportions, scaled as the stream's total moved."""
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(schemes):
        by_source[s.funding_source].append(i)
    amounts = {i: s.planned_spend for i, s in enumerate(schemes)}
    for source, indexes in by_source.items():
        old, new = old_totals.get(source, 0), new_totals.get(source, 0)
        if source == ADDITIONAL or not old:
            continue
        spent = sum(amounts[i] for i in indexes)
        target = spent * new // old
        weights = {i: amounts[i] for i in indexes}
        if target and sum(weights.values()):
            amounts.update(split_by_weights(target, weights))
    return [s.model_copy(update={"planned_spend": amounts[i]}) for i, s in enumerate(schemes)]


def _listed(schemes: Iterable[Scheme], framework: Framework) -> Iterable[Change]:
    for s in schemes:
        if s.scheme_type not in framework.scheme_types:
            yield Change(
                ChangeKind.SCHEME_TYPE_GONE,
                "Schemes",
                s.ref,
                f"{s.name}: {s.scheme_type!r} is not a scheme type of "
                f"{framework.year}; choose one of its types",
            )
        elif s.area_of_spend not in framework.areas_of_spend:
            yield Change(
                ChangeKind.SCHEME_TYPE_GONE,
                "Schemes",
                s.ref,
                f"{s.name}: {s.area_of_spend!r} is not an area of spend of {framework.year}",
            )


def _ambitions(
    previous: PlanContent, old: Framework, context: PlanContext
) -> tuple[tuple[Ambition, ...], list[Change]]:
    """One ambition per metric of the new year, matched by the metric's identity, not label.

    Last year's quarters are not copied: an ambition is set against the latest baseline, so
    each continuing metric is listed with last year's plan beside it to set again.
    """
    new = context.framework
    old_uses = {m.metric: m for m in old.metrics}
    before = {a.metric: a for a in previous.ambitions}
    ambitions: list[Ambition] = []
    changes: list[Change] = []
    for use in new.metrics:
        ambitions.append(Ambition(metric=use.metric, baseline=context.baselines.get(use.metric)))
        was = old_uses.get(use.metric)
        if was is None:
            changes.append(
                Change(
                    ChangeKind.METRIC_NEW,
                    "Metrics",
                    use.metric,
                    f"{use.label} ({use.name}) is new in {new.year}: set its baseline and ambition",
                )
            )
            continue
        relabelled = f" (was {was.label})" if was.label != use.label else ""
        changes.append(
            Change(
                ChangeKind.METRIC_CONTINUES,
                "Metrics",
                use.metric,
                f"{use.label}{relabelled}: set the ambition for {new.year}; "
                f"last year's plan was {_quarters(before.get(use.metric))}",
            )
        )
    for use in old.metrics:
        if use.metric not in {m.metric for m in new.metrics}:
            changes.append(
                Change(
                    ChangeKind.METRIC_ENDED,
                    "Metrics",
                    use.metric,
                    f"{use.label} ({use.name}) is not a metric of {new.year}",
                )
            )
    return tuple(ambitions), changes


def _quarters(ambition: Ambition | None) -> str:
    if ambition is None or all(q is None for q in ambition.quarters):
        return "not set"
    values = ", ".join("–" if q is None else f"{q:,}" for q in ambition.quarters)
    return f"{values} (baseline {ambition.baseline if ambition.baseline is not None else '–'})"


def _conditions(
    previous: PlanContent, old: Framework, new: Framework
) -> tuple[tuple[ConditionConfirmation, ...], list[Change]]:
    """Answers carried for conditions the new year still asks (by id); the rest to confirm."""
    answers = {c.condition: c for c in previous.conditions}
    rows: list[ConditionConfirmation] = []
    changes: list[Change] = []
    for condition in new.national_conditions:
        answer = answers.get(condition.id)
        if answer is None or answer.status is None:
            rows.append(ConditionConfirmation(condition=condition.id))
            changes.append(
                Change(
                    ChangeKind.CONDITION_NEW,
                    "Conditions",
                    condition.id,
                    f"{condition.title}: confirm it or explain how it will be met",
                )
            )
            continue
        rows.append(answer)
        changes.append(
            Change(
                ChangeKind.CONDITION_CARRIED,
                "Conditions",
                condition.id,
                f"{condition.title}: last year's answer ({answer.status.value}) "
                "is carried forward; check it still holds",
            )
        )
    asked = {c.id for c in new.national_conditions}
    for condition in old.national_conditions:
        if condition.id not in asked:
            changes.append(
                Change(
                    ChangeKind.CONDITION_ENDED,
                    "Conditions",
                    condition.id,
                    f"{condition.title} is not a condition of {new.year}",
                )
            )
    return tuple(rows), changes


def _section75(previous: PlanContent, context: PlanContext) -> tuple[Section75, list[Change]]:
    """The same terms, to be varied or signed again for the new year."""
    terms = previous.section75
    changes = [
        Change(
            ChangeKind.SECTION75,
            "Section 75",
            "signed",
            f"the agreement must be varied or signed again for {context.framework.year}",
        )
    ]
    host = terms.host_partner
    if host and host not in context.partners:
        changes.append(
            Change(
                ChangeKind.SECTION75,
                "Section 75",
                "host_partner",
                f"the host partner {host} is not a partner of the area in "
                f"{context.framework.year}; choose a new host",
            )
        )
        host = ""
    return terms.model_copy(update={"signed": None, "host_partner": host}), changes


def _payment(old: Framework, new: Framework) -> Iterable[Change]:
    was, now = old.payment_in_force, new.payment_in_force
    if was.kind != now.kind:
        yield Change(
            ChangeKind.PAYMENT,
            "Metrics",
            now.kind,
            f"{old.year} used {was.kind.replace('_', ' ')}; {new.year} uses "
            f"{now.kind.replace('_', ' ')}. {now.note}".strip(),
        )
