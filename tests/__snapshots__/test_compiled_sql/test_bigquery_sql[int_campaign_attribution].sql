SELECT
  `t22`.`order_id`,
  `t22`.`user_id`,
  `t22`.`order_date`,
  `t22`.`ordered_at`,
  `t22`.`net_revenue`,
  `t22`.`net_revenue` - `t22`.`net_cost` AS `gross_profit`,
  `t22`.`session_id`,
  `t22`.`traffic_source`,
  `t22`.`platform`,
  `t16`.`campaign_id`,
  CASE
    WHEN `t16`.`campaign_id` IS NOT NULL
    THEN 'attributed'
    WHEN (
      `t22`.`session_id` IS NOT NULL
    ) AND (
      `t22`.`platform` IS NULL
    )
    THEN 'organic'
    ELSE 'unmatched'
  END AS `attribution_status`
FROM (
  SELECT
    *
  FROM (
    SELECT
      `t19`.`order_id`,
      `t19`.`user_id`,
      `t19`.`ordered_at`,
      `t19`.`order_date`,
      `t19`.`net_items`,
      `t19`.`net_revenue`,
      `t19`.`net_cost`,
      `t19`.`session_id`,
      `t19`.`visitor_id`,
      `t19`.`session_start`,
      `t19`.`traffic_source`,
      `t19`.`platform`,
      ROW_NUMBER() OVER (
        PARTITION BY `t19`.`order_id`
        ORDER BY `t19`.`session_start` DESC, `t19`.`session_id` ASC
      ) - 1 AS `touch`
    FROM (
      SELECT
        `t18`.`order_id`,
        `t8`.`user_id`,
        `t8`.`ordered_at`,
        `t8`.`order_date`,
        `t18`.`net_items`,
        `t18`.`net_revenue`,
        `t18`.`net_cost`,
        `t9`.`session_id`,
        `t9`.`visitor_id`,
        `t9`.`session_start`,
        `t9`.`traffic_source`,
        `t9`.`platform`
      FROM (
        SELECT
          `t14`.`order_id`,
          SUM(CAST(NOT (
            `t14`.`status` IN ('cancelled', 'returned')
          ) AS INT64)) AS `net_items`,
          SUM(
            IF(NOT (
              `t14`.`status` IN ('cancelled', 'returned')
            ), `t14`.`sale_price`, 0.0)
          ) AS `net_revenue`,
          SUM(
            IF(
              NOT (
                `t14`.`status` IN ('cancelled', 'returned')
              ),
              COALESCE(`t14`.`product_cost`, 0.0),
              0.0
            )
          ) AS `net_cost`
        FROM (
          SELECT
            `t12`.`order_item_id`,
            `t12`.`order_id`,
            `t12`.`user_id`,
            `t12`.`product_id`,
            `t12`.`inventory_item_id`,
            `t12`.`status`,
            `t12`.`sale_price`,
            `t12`.`created_at`,
            `t12`.`shipped_at`,
            `t12`.`delivered_at`,
            `t12`.`returned_at`,
            `t12`.`order_date`,
            `t11`.`product_id` AS `product_id_right`,
            `t11`.`product_cost`
          FROM (
            SELECT
              *
            FROM `my-project`.`ecom`.`stg_order_items` AS `t3`
            WHERE
              `t3`.`status` <> 'cancelled'
          ) AS `t12`
          LEFT OUTER JOIN (
            SELECT
              `t4`.`product_id`,
              `t4`.`cost` AS `product_cost`
            FROM `my-project`.`ecom`.`stg_products` AS `t4`
          ) AS `t11`
            ON `t12`.`product_id` = `t11`.`product_id`
        ) AS `t14`
        GROUP BY
          1
      ) AS `t18`
      INNER JOIN (
        SELECT
          `t1`.`order_id`,
          `t1`.`user_id`,
          `t1`.`order_date`,
          `t1`.`created_at` AS `ordered_at`
        FROM `my-project`.`ecom`.`stg_orders` AS `t1`
      ) AS `t8`
        ON `t18`.`order_id` = `t8`.`order_id`
      LEFT OUTER JOIN (
        SELECT
          `t2`.`session_id`,
          `t2`.`visitor_id`,
          `t2`.`session_start`,
          `t2`.`traffic_source`,
          `t2`.`platform`
        FROM `my-project`.`ecom`.`fact_session_metrics` AS `t2`
      ) AS `t9`
        ON `t9`.`visitor_id` = CONCAT('u', CAST(`t8`.`user_id` AS STRING))
        AND `t9`.`session_start` <= `t8`.`ordered_at`
        AND TIMESTAMP_ADD(`t9`.`session_start`, INTERVAL '24' HOUR) >= `t8`.`ordered_at`
    ) AS `t19`
  ) AS `t20`
  WHERE
    `t20`.`touch` = 0
) AS `t22`
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
  ON `t22`.`order_date` = `t16`.`spend_date` AND `t22`.`platform` = `t16`.`platform`
