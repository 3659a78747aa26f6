"""Where the year's payments stand: per area and quarter, from each quarter's current run."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from carepool.domain.payment import PaymentLine, QuarterResult, rule_for
from carepool.payments import repository as repo
from carepool.payments.service.ambitions import all_in_force, quarter_period
from carepool.payments.service.runs import current_run, run_label
from carepool.pools.service import ledger


@dataclass(frozen=True, slots=True)
class StatusRow:
    """One area's payment for one quarter, in the run that counts for it.

    An area with a pool and an ambition but no line in the run had no measured value: it is
    shown with status ``no_data``, its pot worked out and nothing earned.
    """

    line: PaymentLine
    run: str
    run_status: str
    final: bool


def status(session: Session, year: str, number: int | None = None) -> list[StatusRow]:
    """Every pooled area's payment in each quarter with a run (or just quarter ``number``)."""
    rows: list[StatusRow] = []
    for q in [number] if number else [1, 2, 3, 4]:
        label = quarter_period(year, q).label
        run = current_run(session, year, label)
        if run is None:
            continue
        lines = {row.area_code: repo.line_of(row, label) for row in run.lines}
        rule = rule_for(run.design_kind, run.parameters)
        pools = ledger.pools(session, year)
        found = all_in_force(session, year, pools)
        for pool in pools:
            line = lines.get(pool.area_code)
            if line is None:
                ambition = found[pool.area_code]
                if ambition is None:
                    continue
                planned = ambition.quarters[q - 1]
                result = QuarterResult(pool.area_code, label, ambition.baseline, planned, None)
                line = rule.assess(result)
            rows.append(StatusRow(line, run_label(run), run.status, not run.provisional))
    return rows
