SELECT
  `t11`.`product_id`,
  `t11`.`name`,
  `t11`.`brand`,
  `t11`.`category`,
  `t11`.`department`,
  `t11`.`cost`,
  `t11`.`stock_on_hand`,
  `t11`.`stock_on_hand` * `t11`.`cost` AS `stock_value`,
  `t11`.`units_sold_window`,
  ieee_divide(`t11`.`units_sold_window`, 30) AS `avg_daily_units`,
  IF(
    `t11`.`units_sold_window` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t11`.`stock_on_hand` * 30, `t11`.`units_sold_window`)
  ) AS `days_of_stock`,
  `t11`.`last_sale_date`,
  DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t11`.`last_sale_date`, DATE(1970, 1, 1), DAY) AS `days_since_last_sale`,
  `t11`.`inventory_status`,
  `t11`.`reorder_qty`,
  `t11`.`reorder_qty` * `t11`.`cost` AS `reorder_value`
FROM (
  SELECT
    `t10`.`product_id`,
    `t10`.`name`,
    `t10`.`brand`,
    `t10`.`category`,
    `t10`.`department`,
    `t10`.`cost`,
    `t10`.`last_sale_date`,
    `t10`.`stock_on_hand`,
    `t10`.`units_sold_window`,
    CASE
      WHEN `t10`.`stock_on_hand` = 0
      THEN 'out_of_stock'
      WHEN `t10`.`units_sold_window` = 0
      THEN 'dead_stock'
      WHEN (
        `t10`.`stock_on_hand` * 30
      ) < (
        `t10`.`units_sold_window` * 7
      )
      THEN 'critical'
      WHEN (
        `t10`.`stock_on_hand` * 30
      ) < (
        `t10`.`units_sold_window` * 14
      )
      THEN 'low'
      WHEN (
        `t10`.`stock_on_hand` * 30
      ) > (
        `t10`.`units_sold_window` * 90
      )
      THEN 'overstocked'
      ELSE 'healthy'
    END AS `inventory_status`,
    IF(
      CAST(FLOOR(ieee_divide((
        `t10`.`units_sold_window` * 44
      ) + 29, 30)) AS INT64) > `t10`.`stock_on_hand`,
      CAST(FLOOR(ieee_divide((
        `t10`.`units_sold_window` * 44
      ) + 29, 30)) AS INT64) - `t10`.`stock_on_hand`,
      0
    ) AS `reorder_qty`
  FROM (
    SELECT
      `t3`.`product_id`,
      `t3`.`name`,
      `t3`.`brand`,
      `t3`.`category`,
      `t3`.`department`,
      `t3`.`cost`,
      `t9`.`last_sale_date`,
      COALESCE(`t7`.`stock_on_hand`, 0) AS `stock_on_hand`,
      COALESCE(`t9`.`units_sold_window`, 0) AS `units_sold_window`
    FROM `my-project`.`ecom`.`stg_products` AS `t3`
    LEFT OUTER JOIN (
      SELECT
        `t4`.`product_id`,
        COUNT(`t4`.`inventory_item_id`) AS `stock_on_hand`
      FROM (
        SELECT
          *
        FROM `my-project`.`ecom`.`stg_inventory` AS `t1`
        WHERE
          `t1`.`sold_at` IS NULL
      ) AS `t4`
      GROUP BY
        1
    ) AS `t7`
      ON `t3`.`product_id` = `t7`.`product_id`
    LEFT OUTER JOIN (
      SELECT
        `t5`.`product_id`,
        COUNT(IF(`t5`.`order_date` > DATE(2024, 5, 31), `t5`.`order_item_id`, NULL)) AS `units_sold_window`,
        MAX(`t5`.`order_date`) AS `last_sale_date`
      FROM (
        SELECT
          *
        FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
        WHERE
          `t2`.`status` <> 'cancelled'
      ) AS `t5`
      GROUP BY
        1
    ) AS `t9`
      ON `t3`.`product_id` = `t9`.`product_id`
  ) AS `t10`
) AS `t11`
