"""Cross-mart invariants (docs/contract.md#invariants): the same money, counted by different marts, agrees."""

import ibis
import ibis.expr.types as ir

from ecom.core.registry import data_test
from marts._common import totals_disagree


def _one_row(totals: dict[str, ir.Scalar]) -> ir.Table:
    first, *others = [total.name(name).as_table() for name, total in totals.items()]
    return first.cross_join(*others) if others else first


def disagreeing_totals(**totals: ir.NumericScalar) -> ir.Table:
    """One row of the named totals when any differs from the first by more than 1e-6 relative (float
    sums added in another order on another engine may differ in the last bits); no row otherwise."""
    row = _one_row(totals)
    names = row.columns
    return row.filter(ibis.or_(*(totals_disagree(row[names[0]], row[n]) for n in names[1:])))


def unequal_counts(**counts: ir.IntegerScalar) -> ir.Table:
    """One row of the named counts when any differs from the first (a NULL sum over no rows is 0);
    no row otherwise."""
    row = _one_row({name: count.fill_null(0) for name, count in counts.items()})
    names = row.columns
    return row.filter(ibis.or_(*(row[names[0]] != row[n] for n in names[1:])))


@data_test
def net_revenue_agrees_across_marts(
    fact_daily_pnl: ir.Table,
    fact_product_performance: ir.Table,
    dim_customers: ir.Table,
    int_campaign_attribution: ir.Table,
) -> ir.Table:
    """Σ net_revenue of fact_daily_pnl = fact_product_performance = dim_customers (lifetime) =
    int_campaign_attribution."""
    return disagreeing_totals(
        daily_pnl=fact_daily_pnl.net_revenue.sum(),
        products=fact_product_performance.net_revenue.sum(),
        customers=dim_customers.lifetime_net_revenue.sum(),
        attribution=int_campaign_attribution.net_revenue.sum(),
    )


@data_test
def ad_spend_agrees_across_marts(
    fact_daily_pnl: ir.Table, fact_campaign_performance: ir.Table, stg_marketing: ir.Table
) -> ir.Table:
    """Σ fact_daily_pnl.ad_spend = Σ fact_campaign_performance.spend = Σ stg_marketing.spend (NULL as 0)."""
    return disagreeing_totals(
        daily_pnl=fact_daily_pnl.ad_spend.sum(),
        campaigns=fact_campaign_performance.spend.fill_null(0).sum(),
        marketing=stg_marketing.spend.fill_null(0).sum(),
    )
