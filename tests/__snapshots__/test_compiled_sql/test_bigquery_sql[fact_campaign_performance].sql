SELECT
  `t2`.`spend_date`,
  `t2`.`platform`,
  `t2`.`campaign_id`,
  `t2`.`spend`,
  `t2`.`clicks`,
  `t2`.`impressions`,
  COALESCE(`t5`.`attributed_orders`, 0) AS `attributed_orders`,
  COALESCE(`t5`.`attributed_revenue`, 0.0) AS `attributed_revenue`,
  COALESCE(`t5`.`attributed_gross_profit`, 0.0) AS `attributed_gross_profit`,
  IF(
    `t2`.`impressions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`clicks`, `t2`.`impressions`)
  ) AS `ctr`,
  IF(`t2`.`clicks` = 0, CAST(NULL AS FLOAT64), ieee_divide(`t2`.`spend`, `t2`.`clicks`)) AS `cpc`,
  IF(
    COALESCE(`t5`.`attributed_orders`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`spend`, COALESCE(`t5`.`attributed_orders`, 0))
  ) AS `cpa`,
  IF(
    `t2`.`spend` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t5`.`attributed_revenue`, 0.0), `t2`.`spend`)
  ) AS `roas`,
  IF(
    `t2`.`clicks` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t5`.`attributed_orders`, 0), `t2`.`clicks`)
  ) AS `conversion_rate`
FROM `my-project`.`ecom`.`stg_marketing` AS `t2`
LEFT OUTER JOIN (
  SELECT
    `t3`.`order_date` AS `spend_date`,
    `t3`.`platform`,
    `t3`.`campaign_id`,
    COUNT(*) AS `attributed_orders`,
    SUM(`t3`.`net_revenue`) AS `attributed_revenue`,
    SUM(`t3`.`gross_profit`) AS `attributed_gross_profit`
  FROM (
    SELECT
      *
    FROM `my-project`.`ecom`.`int_campaign_attribution` AS `t1`
    WHERE
      `t1`.`attribution_status` = 'attributed'
  ) AS `t3`
  GROUP BY
    1,
    2,
    3
) AS `t5`
  ON `t2`.`spend_date` = `t5`.`spend_date`
  AND `t2`.`platform` = `t5`.`platform`
  AND `t2`.`campaign_id` = `t5`.`campaign_id`
