SELECT
  `t4`.`session_id`,
  `t4`.`visitor_id`,
  `t4`.`user_id`,
  `t4`.`user_id` IS NOT NULL AS `is_identified`,
  DATE(`t4`.`session_start`) AS `session_date`,
  `t4`.`session_start`,
  `t4`.`session_end`,
  ieee_divide(TIMESTAMP_DIFF(`t4`.`session_end`, `t4`.`session_start`, MICROSECOND), 1000000.0) AS `duration_seconds`,
  `t4`.`event_count`,
  `t4`.`product_views`,
  `t4`.`cart_events` > 0 AS `has_cart`,
  `t4`.`purchase_events` > 0 AS `has_purchase`,
  `t2`.`landing_uri`,
  `t2`.`landing_event_type`,
  `t2`.`traffic_source`,
  CASE `t2`.`traffic_source`
    WHEN 'Adwords'
    THEN 'Google'
    WHEN 'Facebook'
    THEN 'Facebook'
    WHEN 'YouTube'
    THEN 'YouTube'
    WHEN 'Email'
    THEN 'Email'
    ELSE CAST(NULL AS STRING)
  END AS `platform`,
  `t2`.`browser`
FROM (
  SELECT
    `t0`.`session_id`,
    `t0`.`visitor_id`,
    `t0`.`user_id`,
    MIN(`t0`.`created_at`) AS `session_start`,
    MAX(`t0`.`created_at`) AS `session_end`,
    COUNT(*) AS `event_count`,
    COUNTIF(`t0`.`event_type` = 'product') AS `product_views`,
    COUNTIF(`t0`.`event_type` = 'cart') AS `cart_events`,
    COUNTIF(`t0`.`event_type` = 'purchase') AS `purchase_events`
  FROM `my-project`.`ecom`.`int_web_sessions` AS `t0`
  GROUP BY
    1,
    2,
    3
) AS `t4`
INNER JOIN (
  SELECT
    `t0`.`session_id`,
    `t0`.`uri` AS `landing_uri`,
    `t0`.`event_type` AS `landing_event_type`,
    `t0`.`traffic_source`,
    `t0`.`browser`
  FROM `my-project`.`ecom`.`int_web_sessions` AS `t0`
  WHERE
    `t0`.`is_session_start`
) AS `t2`
  ON `t4`.`session_id` = `t2`.`session_id`
