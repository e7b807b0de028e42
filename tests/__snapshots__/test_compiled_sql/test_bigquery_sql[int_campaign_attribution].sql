SELECT
  `t18`.`order_id`,
  `t8`.`user_id`,
  `t8`.`order_date`,
  `t8`.`ordered_at`,
  `t18`.`net_revenue`,
  `t18`.`net_revenue` - `t18`.`net_cost` AS `gross_profit`,
  `t25`.`session_id`,
  `t25`.`traffic_source`,
  `t25`.`platform`,
  `t16`.`campaign_id`,
  CASE
    WHEN `t16`.`campaign_id` IS NOT NULL
    THEN 'attributed'
    WHEN (
      `t25`.`session_id` IS NOT NULL
    ) AND (
      `t25`.`platform` IS NULL
    )
    THEN 'organic'
    ELSE 'unmatched'
  END AS `attribution_status`
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
      `t10`.`product_id` AS `product_id_right`,
      `t10`.`product_cost`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
      WHERE
        `t2`.`status` <> 'cancelled'
    ) AS `t12`
    LEFT OUTER JOIN (
      SELECT
        `t3`.`product_id`,
        `t3`.`cost` AS `product_cost`
      FROM `my-project`.`ecom`.`stg_products` AS `t3`
    ) AS `t10`
      ON `t12`.`product_id` = `t10`.`product_id`
  ) AS `t14`
  GROUP BY
    1
) AS `t18`
INNER JOIN (
  SELECT
    `t0`.`order_id`,
    `t0`.`user_id`,
    `t0`.`order_date`,
    `t0`.`created_at` AS `ordered_at`
  FROM `my-project`.`ecom`.`stg_orders` AS `t0`
) AS `t8`
  ON `t18`.`order_id` = `t8`.`order_id`
LEFT OUTER JOIN (
  SELECT
    `t23`.`order_id`,
    `t23`.`session_id`,
    `t23`.`traffic_source`,
    `t23`.`platform`
  FROM (
    SELECT
      `t22`.`order_id`,
      `t22`.`user_id`,
      `t22`.`ordered_at`,
      `t22`.`session_id`,
      `t22`.`visitor_id`,
      `t22`.`session_start`,
      `t22`.`traffic_source`,
      `t22`.`platform`,
      ROW_NUMBER() OVER (
        PARTITION BY `t22`.`order_id`
        ORDER BY `t22`.`session_start` DESC, `t22`.`session_id` ASC
      ) - 1 AS `touch`
    FROM (
      SELECT
        `t21`.`order_id`,
        `t21`.`user_id`,
        `t21`.`ordered_at`,
        `t11`.`session_id`,
        `t11`.`visitor_id`,
        `t11`.`session_start`,
        `t11`.`traffic_source`,
        `t11`.`platform`
      FROM (
        SELECT
          `t19`.`order_id`,
          `t19`.`user_id`,
          `t19`.`ordered_at`
        FROM (
          SELECT
            `t18`.`order_id`,
            `t8`.`user_id`,
            `t8`.`ordered_at`,
            `t8`.`order_date`,
            `t18`.`net_items`,
            `t18`.`net_revenue`,
            `t18`.`net_cost`
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
                `t10`.`product_id` AS `product_id_right`,
                `t10`.`product_cost`
              FROM (
                SELECT
                  *
                FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
                WHERE
                  `t2`.`status` <> 'cancelled'
              ) AS `t12`
              LEFT OUTER JOIN (
                SELECT
                  `t3`.`product_id`,
                  `t3`.`cost` AS `product_cost`
                FROM `my-project`.`ecom`.`stg_products` AS `t3`
              ) AS `t10`
                ON `t12`.`product_id` = `t10`.`product_id`
            ) AS `t14`
            GROUP BY
              1
          ) AS `t18`
          INNER JOIN (
            SELECT
              `t0`.`order_id`,
              `t0`.`user_id`,
              `t0`.`order_date`,
              `t0`.`created_at` AS `ordered_at`
            FROM `my-project`.`ecom`.`stg_orders` AS `t0`
          ) AS `t8`
            ON `t18`.`order_id` = `t8`.`order_id`
        ) AS `t19`
      ) AS `t21`
      INNER JOIN (
        SELECT
          `t4`.`session_id`,
          `t4`.`visitor_id`,
          `t4`.`session_start`,
          `t4`.`traffic_source`,
          `t4`.`platform`
        FROM `my-project`.`ecom`.`fact_session_metrics` AS `t4`
      ) AS `t11`
        ON `t11`.`visitor_id` = CONCAT('u', CAST(`t21`.`user_id` AS STRING))
        AND `t11`.`session_start` <= `t21`.`ordered_at`
        AND TIMESTAMP_ADD(`t11`.`session_start`, INTERVAL '24' HOUR) >= `t21`.`ordered_at`
    ) AS `t22`
  ) AS `t23`
  WHERE
    `t23`.`touch` = 0
) AS `t25`
  ON `t18`.`order_id` = `t25`.`order_id`
LEFT OUTER JOIN (
  SELECT
    `t13`.`spend_date`,
    `t13`.`platform`,
    `t13`.`campaign_id`
  FROM (
    SELECT
      `t1`.`spend_date`,
      `t1`.`campaign_id`,
      `t1`.`platform`,
      `t1`.`spend`,
      `t1`.`clicks`,
      `t1`.`impressions`,
      ROW_NUMBER() OVER (
        PARTITION BY `t1`.`spend_date`, `t1`.`platform`
        ORDER BY COALESCE(`t1`.`clicks`, 0) DESC, `t1`.`campaign_id` ASC
      ) - 1 AS `choice`
    FROM `my-project`.`ecom`.`stg_marketing` AS `t1`
  ) AS `t13`
  WHERE
    `t13`.`choice` = 0
) AS `t16`
  ON `t8`.`order_date` = `t16`.`spend_date` AND `t25`.`platform` = `t16`.`platform`
