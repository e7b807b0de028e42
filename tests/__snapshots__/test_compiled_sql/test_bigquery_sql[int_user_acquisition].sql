SELECT
  `t5`.`user_id`,
  `t5`.`signup_date`,
  `t5`.`acquisition_source`,
  `t20`.`first_order_at`,
  DATE(`t20`.`first_order_at`) AS `first_order_date`,
  DATE_DIFF(DATE(`t20`.`first_order_at`), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t5`.`signup_date`, DATE(1970, 1, 1), DAY) AS `days_to_first_order`,
  `t17`.`first_touch_traffic_source`
FROM `my-project`.`ecom`.`stg_users` AS `t5`
LEFT OUTER JOIN (
  SELECT
    `t18`.`user_id`,
    MIN(`t18`.`ordered_at`) AS `first_order_at`
  FROM (
    SELECT
      `t15`.`order_id`,
      `t15`.`user_id`,
      `t15`.`ordered_at`,
      `t15`.`order_date`,
      SUM(CAST(NOT (
        `t15`.`status` IN ('cancelled', 'returned')
      ) AS INT64)) AS `net_items`,
      SUM(
        IF(NOT (
          `t15`.`status` IN ('cancelled', 'returned')
        ), `t15`.`sale_price`, 0.0)
      ) AS `net_revenue`,
      SUM(
        IF(
          NOT (
            `t15`.`status` IN ('cancelled', 'returned')
          ),
          COALESCE(`t15`.`product_cost`, 0.0),
          0.0
        )
      ) AS `net_cost`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t10`.`order_item_id`,
          `t10`.`order_id`,
          `t11`.`user_id`,
          `t11`.`ordered_at`,
          `t10`.`order_date`,
          `t10`.`product_id`,
          `t10`.`status`,
          `t10`.`sale_price`,
          `t12`.`product_cost`
        FROM (
          SELECT
            `t2`.`order_item_id`,
            `t2`.`order_id`,
            `t2`.`order_date`,
            `t2`.`product_id`,
            `t2`.`status`,
            `t2`.`sale_price`
          FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
        ) AS `t10`
        INNER JOIN (
          SELECT
            `t3`.`order_id`,
            `t3`.`user_id`,
            `t3`.`created_at` AS `ordered_at`
          FROM `my-project`.`ecom`.`stg_orders` AS `t3`
        ) AS `t11`
          ON `t10`.`order_id` = `t11`.`order_id`
        LEFT OUTER JOIN (
          SELECT
            `t4`.`product_id`,
            `t4`.`cost` AS `product_cost`
          FROM `my-project`.`ecom`.`stg_products` AS `t4`
        ) AS `t12`
          ON `t10`.`product_id` = `t12`.`product_id`
      ) AS `t13`
      WHERE
        `t13`.`status` <> 'cancelled'
    ) AS `t15`
    GROUP BY
      1,
      2,
      3,
      4
  ) AS `t18`
  GROUP BY
    1
) AS `t20`
  ON `t5`.`user_id` = `t20`.`user_id`
LEFT OUTER JOIN (
  SELECT
    `t14`.`user_id`,
    `t14`.`traffic_source` AS `first_touch_traffic_source`
  FROM (
    SELECT
      `t9`.`event_id`,
      `t9`.`user_id`,
      `t9`.`source_session_id`,
      `t9`.`sequence_number`,
      `t9`.`ip_address`,
      `t9`.`browser`,
      `t9`.`traffic_source`,
      `t9`.`uri`,
      `t9`.`event_type`,
      `t9`.`created_at`,
      `t9`.`event_date`,
      ROW_NUMBER() OVER (PARTITION BY `t9`.`user_id` ORDER BY `t9`.`created_at` ASC, `t9`.`event_id` ASC) - 1 AS `touch`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`stg_events` AS `t1`
      WHERE
        `t1`.`user_id` IS NOT NULL
    ) AS `t9`
  ) AS `t14`
  WHERE
    `t14`.`touch` = 0
) AS `t17`
  ON `t5`.`user_id` = `t17`.`user_id`
