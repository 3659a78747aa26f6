"""An area's stored metric values for one quarter, as a quarterly return reports them.

A pool's quarterly return sets each metric's actual beside the plan's ambition. The values
are the metrics capability's, and pools and metrics do not import each other, so the
application hands :func:`quarter_actuals` to the pools (``web.app`` keeps it on the app's
state) and the return calls it. Each value comes from the latest data vintage computed for
the metric, at the quarterly grain, with the definition version that computed it.

A return goes to the Health and Wellbeing Board, whose papers are public, and one return is
read by everyone who may see it, so its actuals are under publication control whoever reads
them: a count of 1 to 7, or a rate made from one, is withheld
(:func:`carepool.metrics.service.results.public_values`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy.orm import Session

from carepool.domain.metric_catalogue import catalogue
from carepool.domain.metric_value import Grain
from carepool.domain.periods import Quarter
from carepool.domain.quarterly_return import MetricActual
from carepool.metrics.service import results


def quarter_actuals(
    session: Session, area_code: str, quarter: Quarter, metrics: Sequence[str]
) -> Mapping[str, MetricActual]:
    """Each of ``metrics`` that has a stored value for the area and quarter, published.

    A metric carepool does not compute (a local metric, say) or has no value for the
    quarter is left out: the return says "no data" for it. So is a value for only some of
    the quarter's months (an extract ending part-way through it): it is not the quarter's.
    """
    computed = {metric.id for metric in catalogue()}
    found: dict[str, MetricActual] = {}
    for metric in metrics:
        if metric not in computed:
            continue
        stored = results.series(session, metric, area_code, Grain.QUARTER)
        held = [v for v in stored.values if v.period == quarter.label and v.complete]
        if not held or stored.data_vintage is None:
            continue
        value, published = results.public_values(held)[0]
        found[metric] = MetricActual(
            metric=metric,
            value=published.value,
            definition_version=value.definition_version,
            data_vintage=stored.data_vintage,
        )
    return found
