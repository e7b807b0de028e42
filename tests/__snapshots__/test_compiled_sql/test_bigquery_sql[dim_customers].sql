SELECT
  `t4`.`user_id`,
  `t4`.`signup_date`,
  `t4`.`age`,
  CASE
    WHEN `t4`.`age` IS NULL
    THEN CAST(NULL AS STRING)
    WHEN `t4`.`age` < 18
    THEN '<18'
    WHEN `t4`.`age` < 25
    THEN '18-24'
    WHEN `t4`.`age` < 35
    THEN '25-34'
    WHEN `t4`.`age` < 45
    THEN '35-44'
    WHEN `t4`.`age` < 55
    THEN '45-54'
    WHEN `t4`.`age` < 65
    THEN '55-64'
    ELSE '65+'
  END AS `age_band`,
  `t4`.`gender`,
  `t4`.`country`,
  `t4`.`state`,
  `t4`.`city`,
  `t4`.`acquisition_source`,
  `t16`.`first_order_date`,
  `t16`.`last_order_date`,
  COALESCE(`t16`.`orders`, 0) AS `orders`,
  COALESCE(`t16`.`items`, 0) AS `items`,
  COALESCE(`t16`.`lifetime_net_revenue`, 0.0) AS `lifetime_net_revenue`,
  COALESCE(`t16`.`lifetime_net_revenue`, 0.0) - COALESCE(`t16`.`lifetime_cost`, 0.0) AS `lifetime_gross_profit`,
  IF(
    COALESCE(`t16`.`orders`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t16`.`lifetime_net_revenue`, 0.0), COALESCE(`t16`.`orders`, 0))
  ) AS `avg_order_value`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t16`.`last_order_date`, DATE(1970, 1, 1), DAY) AS `days_since_last_order`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t4`.`signup_date`, DATE(1970, 1, 1), DAY) AS `tenure_days`,
  COALESCE(`t16`.`orders`, 0) > 0 AS `is_customer`
FROM `my-project`.`ecom`.`stg_users` AS `t4`
LEFT OUTER JOIN (
  SELECT
    `t14`.`user_id`,
    MIN(`t14`.`order_date`) AS `first_order_date`,
    MAX(`t14`.`order_date`) AS `last_order_date`,
    COUNT(*) AS `orders`,
    SUM(`t14`.`net_items`) AS `items`,
    SUM(`t14`.`net_revenue`) AS `lifetime_net_revenue`,
    SUM(`t14`.`net_cost`) AS `lifetime_cost`
  FROM (
    SELECT
      `t13`.`order_id`,
      `t7`.`user_id`,
      `t7`.`ordered_at`,
      `t7`.`order_date`,
      `t13`.`net_items`,
      `t13`.`net_revenue`,
      `t13`.`net_cost`
    FROM (
      SELECT
        `t11`.`order_id`,
        SUM(CAST(NOT (
          `t11`.`status` IN ('cancelled', 'returned')
        ) AS INT64)) AS `net_items`,
        SUM(
          IF(NOT (
            `t11`.`status` IN ('cancelled', 'returned')
          ), `t11`.`sale_price`, 0.0)
        ) AS `net_revenue`,
        SUM(
          IF(
            NOT (
              `t11`.`status` IN ('cancelled', 'returned')
            ),
            COALESCE(`t11`.`product_cost`, 0.0),
            0.0
          )
        ) AS `net_cost`
      FROM (
        SELECT
          `t10`.`order_item_id`,
          `t10`.`order_id`,
          `t10`.`user_id`,
          `t10`.`product_id`,
          `t10`.`inventory_item_id`,
          `t10`.`status`,
          `t10`.`sale_price`,
          `t10`.`created_at`,
          `t10`.`shipped_at`,
          `t10`.`delivered_at`,
          `t10`.`returned_at`,
          `t10`.`order_date`,
          `t9`.`product_id` AS `product_id_right`,
          `t9`.`product_cost`
        FROM (
          SELECT
            *
          FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
          WHERE
            `t2`.`status` <> 'cancelled'
        ) AS `t10`
        LEFT OUTER JOIN (
          SELECT
            `t3`.`product_id`,
            `t3`.`cost` AS `product_cost`
          FROM `my-project`.`ecom`.`stg_products` AS `t3`
        ) AS `t9`
          ON `t10`.`product_id` = `t9`.`product_id`
      ) AS `t11`
      GROUP BY
        1
    ) AS `t13`
    INNER JOIN (
      SELECT
        `t1`.`order_id`,
        `t1`.`user_id`,
        `t1`.`order_date`,
        `t1`.`created_at` AS `ordered_at`
      FROM `my-project`.`ecom`.`stg_orders` AS `t1`
    ) AS `t7`
      ON `t13`.`order_id` = `t7`.`order_id`
  ) AS `t14`
  GROUP BY
    1
) AS `t16`
  ON `t4`.`user_id` = `t16`.`user_id`
