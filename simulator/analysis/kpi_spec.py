"""What a KPI entry of the registry states: name, formula, unit, aggregation and uses.

The entries themselves are in `kpi_registry` (activity and target-only KPIs) and `kpi_money`
(costs, offers, profit and the KPIs against the no-campaign run).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from simulator.domain.lifecycle import STATES

# How a KPI adds up over the days it is measured on (every KPI is averaged over replications):
# sum: a total of daily counts or money, grows with the number of shoppers;
# last_day: a count of shoppers at the end of the last day, grows with the number of shoppers;
# ratio: a ratio of totals (a share, a rate, a mean per buyer), independent of the shoppers.
AGGREGATES = ("sum", "last_day", "ratio")
WINDOW = "window."  # a KPI window's KPIs are keyed window.<name>.<kpi> (`kpis.compute_kpis`)
PLACEHOLDERS = ("benefit", "channel", "state")


@dataclass(frozen=True)
class Kpi:
    """One KPI.

    Attributes:
        name: key in kpis.json; `<benefit>`, `<channel>` or `<state>` makes one per name.
        formula: the exact definition, Markdown, as docs/kpis.md shows it.
        unit: what a value counts ("currency" is the scenario's currency).
        aggregate: how it adds up over days, one of `AGGREGATES`.
        headline: in the table of `promosim run`, in registry order.
        compared: a row of `promosim compare`, with its paired difference to the first scenario.
        needs_baseline: computed against the no-campaign run (absent without it).
        better: "max" or "min" when a higher or lower value is better, else None.
        reported: in kpis.json; False for the KPIs only a targets fit measures.
    """

    name: str
    formula: str
    unit: str
    aggregate: Literal["sum", "last_day", "ratio"]
    headline: bool = False
    compared: bool = False
    needs_baseline: bool = False
    better: Literal["max", "min"] | None = None
    reported: bool = True

    @property
    def intensive(self) -> bool:
        """Whether the KPI does not grow with the number of shoppers (shares, rates, ratios)."""
        return self.aggregate == "ratio"

    @property
    def per(self) -> str | None:
        """The placeholder of a KPI per name ("benefit", "channel" or "state"), else None."""
        return next((p for p in PLACEHOLDERS if f"<{p}>" in self.name), None)

    def names(self, benefits: Iterable[str], channels: Iterable[str]) -> list[str]:
        """The KPI's keys for a scenario's benefits and channels."""
        each = {"benefit": benefits, "channel": channels, "state": STATES}
        if self.per is None:
            return [self.name]
        return [self.name.replace(f"<{self.per}>", x) for x in each[self.per]]


MONEY, SHOPPERS, SHARE = "currency", "shoppers", "share"
