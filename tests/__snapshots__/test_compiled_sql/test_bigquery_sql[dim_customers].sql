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
  `t15`.`first_order_date`,
  `t15`.`last_order_date`,
  COALESCE(`t15`.`orders`, 0) AS `orders`,
  COALESCE(`t15`.`items`, 0) AS `items`,
  COALESCE(`t15`.`lifetime_net_revenue`, 0.0) AS `lifetime_net_revenue`,
  COALESCE(`t15`.`lifetime_net_revenue`, 0.0) - COALESCE(`t15`.`lifetime_cost`, 0.0) AS `lifetime_gross_profit`,
  IF(
    COALESCE(`t15`.`orders`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t15`.`lifetime_net_revenue`, 0.0), COALESCE(`t15`.`orders`, 0))
  ) AS `avg_order_value`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t15`.`last_order_date`, DATE(1970, 1, 1), DAY) AS `days_since_last_order`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t4`.`signup_date`, DATE(1970, 1, 1), DAY) AS `tenure_days`,
  COALESCE(`t15`.`orders`, 0) > 0 AS `is_customer`
FROM `my-project`.`ecom`.`stg_users` AS `t4`
LEFT OUTER JOIN (
  SELECT
    `t13`.`user_id`,
    MIN(`t13`.`order_date`) AS `first_order_date`,
    MAX(`t13`.`order_date`) AS `last_order_date`,
    COUNT(*) AS `orders`,
    SUM(`t13`.`net_items`) AS `items`,
    SUM(`t13`.`net_revenue`) AS `lifetime_net_revenue`,
    SUM(`t13`.`net_cost`) AS `lifetime_cost`
  FROM (
    SELECT
      `t12`.`order_id`,
      `t12`.`user_id`,
      `t12`.`ordered_at`,
      `t12`.`order_date`,
      SUM(CAST(NOT (
        `t12`.`status` IN ('cancelled', 'returned')
      ) AS INT64)) AS `net_items`,
      SUM(
        IF(NOT (
          `t12`.`status` IN ('cancelled', 'returned')
        ), `t12`.`sale_price`, 0.0)
      ) AS `net_revenue`,
      SUM(
        IF(
          NOT (
            `t12`.`status` IN ('cancelled', 'returned')
          ),
          COALESCE(`t12`.`product_cost`, 0.0),
          0.0
        )
      ) AS `net_cost`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t8`.`order_item_id`,
          `t8`.`order_id`,
          `t9`.`user_id`,
          `t9`.`ordered_at`,
          `t8`.`order_date`,
          `t8`.`product_id`,
          `t8`.`status`,
          `t8`.`sale_price`,
          `t10`.`product_cost`
        FROM (
          SELECT
            `t1`.`order_item_id`,
            `t1`.`order_id`,
            `t1`.`order_date`,
            `t1`.`product_id`,
            `t1`.`status`,
            `t1`.`sale_price`
          FROM `my-project`.`ecom`.`stg_order_items` AS `t1`
        ) AS `t8`
        INNER JOIN (
          SELECT
            `t2`.`order_id`,
            `t2`.`user_id`,
            `t2`.`created_at` AS `ordered_at`
          FROM `my-project`.`ecom`.`stg_orders` AS `t2`
        ) AS `t9`
          ON `t8`.`order_id` = `t9`.`order_id`
        LEFT OUTER JOIN (
          SELECT
            `t3`.`product_id`,
            `t3`.`cost` AS `product_cost`
          FROM `my-project`.`ecom`.`stg_products` AS `t3`
        ) AS `t10`
          ON `t8`.`product_id` = `t10`.`product_id`
      ) AS `t11`
      WHERE
        `t11`.`status` <> 'cancelled'
    ) AS `t12`
    GROUP BY
      1,
      2,
      3,
      4
  ) AS `t13`
  GROUP BY
    1
) AS `t15`
  ON `t4`.`user_id` = `t15`.`user_id`
