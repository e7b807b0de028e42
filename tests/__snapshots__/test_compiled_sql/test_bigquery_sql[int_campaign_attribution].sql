WITH `t18` AS (
  SELECT
    `t17`.`order_id`,
    `t17`.`user_id`,
    `t17`.`ordered_at`,
    `t17`.`order_date`,
    SUM(CAST(NOT (
      `t17`.`status` IN ('cancelled', 'returned')
    ) AS INT64)) AS `net_items`,
    SUM(
      IF(NOT (
        `t17`.`status` IN ('cancelled', 'returned')
      ), `t17`.`sale_price`, 0.0)
    ) AS `net_revenue`,
    SUM(
      IF(
        NOT (
          `t17`.`status` IN ('cancelled', 'returned')
        ),
        COALESCE(`t17`.`product_cost`, 0.0),
        0.0
      )
    ) AS `net_cost`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        `t9`.`order_item_id`,
        `t9`.`order_id`,
        `t10`.`user_id`,
        `t10`.`ordered_at`,
        `t9`.`order_date`,
        `t9`.`product_id`,
        `t9`.`status`,
        `t9`.`sale_price`,
        `t11`.`product_cost`
      FROM (
        SELECT
          `t1`.`order_item_id`,
          `t1`.`order_id`,
          `t1`.`order_date`,
          `t1`.`product_id`,
          `t1`.`status`,
          `t1`.`sale_price`
        FROM `my-project`.`ecom`.`stg_order_items` AS `t1`
      ) AS `t9`
      INNER JOIN (
        SELECT
          `t2`.`order_id`,
          `t2`.`user_id`,
          `t2`.`created_at` AS `ordered_at`
        FROM `my-project`.`ecom`.`stg_orders` AS `t2`
      ) AS `t10`
        ON `t9`.`order_id` = `t10`.`order_id`
      LEFT OUTER JOIN (
        SELECT
          `t3`.`product_id`,
          `t3`.`cost` AS `product_cost`
        FROM `my-project`.`ecom`.`stg_products` AS `t3`
      ) AS `t11`
        ON `t9`.`product_id` = `t11`.`product_id`
    ) AS `t14`
    WHERE
      `t14`.`status` <> 'cancelled'
  ) AS `t17`
  GROUP BY
    1,
    2,
    3,
    4
)
SELECT
  `t20`.`order_id`,
  `t20`.`user_id`,
  `t20`.`order_date`,
  `t20`.`ordered_at`,
  `t20`.`net_revenue`,
  `t20`.`net_revenue` - `t20`.`net_cost` AS `gross_profit`,
  `t26`.`session_id`,
  `t26`.`traffic_source`,
  `t26`.`platform`,
  `t16`.`campaign_id`,
  CASE
    WHEN `t16`.`campaign_id` IS NOT NULL
    THEN 'attributed'
    WHEN (
      `t26`.`session_id` IS NOT NULL
    ) AND (
      `t26`.`platform` IS NULL
    )
    THEN 'organic'
    ELSE 'unmatched'
  END AS `attribution_status`
FROM `t18` AS `t20`
LEFT OUTER JOIN (
  SELECT
    `t24`.`order_id`,
    `t24`.`session_id`,
    `t24`.`traffic_source`,
    `t24`.`platform`
  FROM (
    SELECT
      `t23`.`order_id`,
      `t23`.`user_id`,
      `t23`.`ordered_at`,
      `t23`.`session_id`,
      `t23`.`visitor_id`,
      `t23`.`session_start`,
      `t23`.`traffic_source`,
      `t23`.`platform`,
      ROW_NUMBER() OVER (
        PARTITION BY `t23`.`order_id`
        ORDER BY `t23`.`session_start` DESC, `t23`.`session_id` ASC
      ) - 1 AS `touch`
    FROM (
      SELECT
        `t22`.`order_id`,
        `t22`.`user_id`,
        `t22`.`ordered_at`,
        `t12`.`session_id`,
        `t12`.`visitor_id`,
        `t12`.`session_start`,
        `t12`.`traffic_source`,
        `t12`.`platform`
      FROM (
        SELECT
          `t19`.`order_id`,
          `t19`.`user_id`,
          `t19`.`ordered_at`
        FROM `t18` AS `t19`
      ) AS `t22`
      INNER JOIN (
        SELECT
          `t4`.`session_id`,
          `t4`.`visitor_id`,
          `t4`.`session_start`,
          `t4`.`traffic_source`,
          `t4`.`platform`
        FROM `my-project`.`ecom`.`fact_session_metrics` AS `t4`
      ) AS `t12`
        ON `t12`.`visitor_id` = CONCAT('u', CAST(`t22`.`user_id` AS STRING))
        AND `t12`.`session_start` <= `t22`.`ordered_at`
        AND TIMESTAMP_ADD(`t12`.`session_start`, INTERVAL '24' HOUR) >= `t22`.`ordered_at`
    ) AS `t23`
  ) AS `t24`
  WHERE
    `t24`.`touch` = 0
) AS `t26`
  ON `t20`.`order_id` = `t26`.`order_id`
LEFT OUTER JOIN (
  SELECT
    `t13`.`spend_date`,
    `t13`.`platform`,
    `t13`.`campaign_id`
  FROM (
    SELECT
      `t0`.`spend_date`,
      `t0`.`campaign_id`,
      `t0`.`platform`,
      `t0`.`spend`,
      `t0`.`clicks`,
      `t0`.`impressions`,
      ROW_NUMBER() OVER (
        PARTITION BY `t0`.`spend_date`, `t0`.`platform`
        ORDER BY COALESCE(`t0`.`clicks`, 0) DESC, `t0`.`campaign_id` ASC
      ) - 1 AS `choice`
    FROM `my-project`.`ecom`.`stg_marketing` AS `t0`
  ) AS `t13`
  WHERE
    `t13`.`choice` = 0
) AS `t16`
  ON `t20`.`order_date` = `t16`.`spend_date` AND `t26`.`platform` = `t16`.`platform`
