SELECT
  `t2`.`session_date`,
  `t2`.`channel`,
  `t2`.`sessions`,
  `t2`.`identified_sessions`,
  `t2`.`product_view_sessions`,
  `t2`.`cart_sessions`,
  `t2`.`purchase_sessions`,
  `t2`.`cart_purchase_sessions`,
  `t2`.`bounced_sessions`,
  `t2`.`avg_duration_seconds`,
  IF(
    `t2`.`sessions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`product_view_sessions`, `t2`.`sessions`)
  ) AS `product_view_rate`,
  IF(
    `t2`.`sessions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`cart_sessions`, `t2`.`sessions`)
  ) AS `cart_rate`,
  IF(
    `t2`.`sessions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`purchase_sessions`, `t2`.`sessions`)
  ) AS `purchase_rate`,
  IF(
    `t2`.`sessions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`bounced_sessions`, `t2`.`sessions`)
  ) AS `bounce_rate`,
  IF(
    `t2`.`cart_sessions` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t2`.`cart_purchase_sessions`, `t2`.`cart_sessions`)
  ) AS `cart_to_purchase_rate`
FROM (
  SELECT
    `t1`.`session_date`,
    `t1`.`channel`,
    COUNT(*) AS `sessions`,
    SUM(CAST(`t1`.`is_identified` AS INT64)) AS `identified_sessions`,
    SUM(CAST(`t1`.`product_views` > 0 AS INT64)) AS `product_view_sessions`,
    SUM(CAST(`t1`.`has_cart` AS INT64)) AS `cart_sessions`,
    SUM(CAST(`t1`.`has_purchase` AS INT64)) AS `purchase_sessions`,
    SUM(CAST(`t1`.`has_cart` AND `t1`.`has_purchase` AS INT64)) AS `cart_purchase_sessions`,
    SUM(CAST(`t1`.`event_count` = 1 AS INT64)) AS `bounced_sessions`,
    AVG(`t1`.`duration_seconds`) AS `avg_duration_seconds`
  FROM (
    SELECT
      `t0`.`session_id`,
      `t0`.`visitor_id`,
      `t0`.`user_id`,
      `t0`.`is_identified`,
      `t0`.`session_date`,
      `t0`.`session_start`,
      `t0`.`session_end`,
      `t0`.`duration_seconds`,
      `t0`.`event_count`,
      `t0`.`product_views`,
      `t0`.`has_cart`,
      `t0`.`has_purchase`,
      `t0`.`landing_uri`,
      `t0`.`landing_event_type`,
      `t0`.`traffic_source`,
      `t0`.`platform`,
      `t0`.`browser`,
      COALESCE(`t0`.`platform`, 'Organic') AS `channel`
    FROM `my-project`.`ecom`.`fact_session_metrics` AS `t0`
  ) AS `t1`
  GROUP BY
    1,
    2
) AS `t2`
