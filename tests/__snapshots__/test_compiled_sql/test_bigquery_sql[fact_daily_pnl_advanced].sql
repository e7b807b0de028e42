SELECT
  `t2`.`date`,
  `t2`.`orders`,
  `t2`.`items_sold`,
  `t2`.`gross_revenue`,
  `t2`.`returned_revenue`,
  `t2`.`net_revenue`,
  `t2`.`cogs`,
  `t2`.`gross_profit`,
  `t2`.`gross_margin`,
  `t2`.`ad_spend`,
  `t2`.`contribution_profit`,
  `t2`.`roas`,
  `t2`.`aov`,
  `t2`.`customers`,
  `t2`.`new_customers`,
  `t2`.`net_revenue_7d`,
  `t2`.`ad_spend_7d`,
  `t2`.`gross_profit_7d`,
  `t2`.`net_revenue_30d`,
  `t2`.`ad_spend_30d`,
  `t2`.`gross_profit_30d`,
  IF(
    `t2`.`ad_spend_7d` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`net_revenue_7d`, `t2`.`ad_spend_7d`)
  ) AS `roas_7d`,
  IF(
    `t2`.`ad_spend_30d` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`net_revenue_30d`, `t2`.`ad_spend_30d`)
  ) AS `roas_30d`,
  `t2`.`net_revenue_mtd`,
  `t2`.`net_revenue_ytd`,
  `t2`.`cumulative_net_revenue`,
  `t2`.`net_revenue_7d_prev_year`,
  IF(
    `t2`.`net_revenue_7d_prev_year` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      `t2`.`net_revenue_7d` - `t2`.`net_revenue_7d_prev_year`,
      `t2`.`net_revenue_7d_prev_year`
    )
  ) AS `yoy_growth_7d`
FROM (
  SELECT
    `t1`.`date`,
    `t1`.`orders`,
    `t1`.`items_sold`,
    `t1`.`gross_revenue`,
    `t1`.`returned_revenue`,
    `t1`.`net_revenue`,
    `t1`.`cogs`,
    `t1`.`gross_profit`,
    `t1`.`gross_margin`,
    `t1`.`ad_spend`,
    `t1`.`contribution_profit`,
    `t1`.`roas`,
    `t1`.`aov`,
    `t1`.`customers`,
    `t1`.`new_customers`,
    `t1`.`day`,
    SUM(`t1`.`net_revenue`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 6 preceding AND CURRENT ROW) AS `net_revenue_7d`,
    SUM(`t1`.`ad_spend`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 6 preceding AND CURRENT ROW) AS `ad_spend_7d`,
    SUM(`t1`.`gross_profit`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 6 preceding AND CURRENT ROW) AS `gross_profit_7d`,
    SUM(`t1`.`net_revenue`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 29 preceding AND CURRENT ROW) AS `net_revenue_30d`,
    SUM(`t1`.`ad_spend`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 29 preceding AND CURRENT ROW) AS `ad_spend_30d`,
    SUM(`t1`.`gross_profit`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 29 preceding AND CURRENT ROW) AS `gross_profit_30d`,
    SUM(`t1`.`net_revenue`) OVER (
      PARTITION BY EXTRACT(year FROM `t1`.`date`), EXTRACT(month FROM `t1`.`date`)
      ORDER BY `t1`.`date` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `net_revenue_mtd`,
    SUM(`t1`.`net_revenue`) OVER (
      PARTITION BY EXTRACT(year FROM `t1`.`date`)
      ORDER BY `t1`.`date` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `net_revenue_ytd`,
    SUM(`t1`.`net_revenue`) OVER (ORDER BY `t1`.`date` ASC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS `cumulative_net_revenue`,
    COALESCE(
      SUM(`t1`.`net_revenue`) OVER (ORDER BY `t1`.`day` ASC RANGE BETWEEN 370 preceding AND 364 preceding),
      0
    ) AS `net_revenue_7d_prev_year`
  FROM (
    SELECT
      `t0`.`date`,
      `t0`.`orders`,
      `t0`.`items_sold`,
      `t0`.`gross_revenue`,
      `t0`.`returned_revenue`,
      `t0`.`net_revenue`,
      `t0`.`cogs`,
      `t0`.`gross_profit`,
      `t0`.`gross_margin`,
      `t0`.`ad_spend`,
      `t0`.`contribution_profit`,
      `t0`.`roas`,
      `t0`.`aov`,
      `t0`.`customers`,
      `t0`.`new_customers`,
      DATE_DIFF(`t0`.`date`, DATE(1970, 1, 1), DAY) AS `day`
    FROM `my-project`.`ecom`.`fact_daily_pnl` AS `t0`
  ) AS `t1`
) AS `t2`
