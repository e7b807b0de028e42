"""Marketing: daily spend per platform, last-touch attribution of orders, campaign performance."""

import ibis.expr.types as ir

from ecom.registry import model


@model(
    key=("spend_date", "platform"),
    partition_by="spend_date",
)
def int_daily_marketing(stg_marketing: ir.Table) -> ir.Table:
    """One row per (spend_date, platform) with a marketing row (METRICS.md#intermediate).

    NULL spend, clicks and impressions count as 0 in the sums; campaigns counts every campaign_id
    with a row that day, zero-spend rows included.
    """
    daily = stg_marketing.group_by(["spend_date", "platform"]).aggregate(
        spend=stg_marketing.spend.fill_null(0).sum(),
        clicks=stg_marketing.clicks.fill_null(0).sum(),
        impressions=stg_marketing.impressions.fill_null(0).sum(),
        campaigns=stg_marketing.campaign_id.nunique(),
    )
    return daily.select("spend_date", "platform", "spend", "clicks", "impressions", "campaigns")
