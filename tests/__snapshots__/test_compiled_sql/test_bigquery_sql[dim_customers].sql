SELECT
  `t2`.`user_id`,
  `t2`.`signup_date`,
  `t2`.`age`,
  CASE
    WHEN `t2`.`age` IS NULL
    THEN CAST(NULL AS STRING)
    WHEN `t2`.`age` < 18
    THEN '<18'
    WHEN `t2`.`age` < 25
    THEN '18-24'
    WHEN `t2`.`age` < 35
    THEN '25-34'
    WHEN `t2`.`age` < 45
    THEN '35-44'
    WHEN `t2`.`age` < 55
    THEN '45-54'
    WHEN `t2`.`age` < 65
    THEN '55-64'
    ELSE '65+'
  END AS `age_band`,
  `t2`.`gender`,
  `t2`.`country`,
  `t2`.`state`,
  `t2`.`city`,
  `t2`.`acquisition_source`,
  `t4`.`first_order_date`,
  `t4`.`last_order_date`,
  COALESCE(`t4`.`orders`, 0) AS `orders`,
  COALESCE(`t4`.`items`, 0) AS `items`,
  COALESCE(`t4`.`lifetime_net_revenue`, 0.0) AS `lifetime_net_revenue`,
  COALESCE(`t4`.`lifetime_net_revenue`, 0.0) - COALESCE(`t4`.`lifetime_cost`, 0.0) AS `lifetime_gross_profit`,
  IF(
    COALESCE(`t4`.`orders`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t4`.`lifetime_net_revenue`, 0.0), COALESCE(`t4`.`orders`, 0))
  ) AS `avg_order_value`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t4`.`last_order_date`, DATE(1970, 1, 1), DAY) AS `days_since_last_order`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t2`.`signup_date`, DATE(1970, 1, 1), DAY) AS `tenure_days`,
  COALESCE(`t4`.`orders`, 0) > 0 AS `is_customer`
FROM `my-project`.`ecom`.`stg_users` AS `t2`
LEFT OUTER JOIN (
  SELECT
    `t1`.`user_id`,
    MIN(`t1`.`order_date`) AS `first_order_date`,
    MAX(`t1`.`order_date`) AS `last_order_date`,
    COUNT(*) AS `orders`,
    SUM(`t1`.`net_items`) AS `items`,
    SUM(`t1`.`net_revenue`) AS `lifetime_net_revenue`,
    SUM(`t1`.`net_cost`) AS `lifetime_cost`
  FROM `my-project`.`ecom`.`int_orders` AS `t1`
  GROUP BY
    1
) AS `t4`
  ON `t2`.`user_id` = `t4`.`user_id`
