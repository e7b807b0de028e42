SELECT
  `t11`.`order_id`,
  `t5`.`user_id`,
  `t5`.`ordered_at`,
  `t5`.`order_date`,
  `t11`.`net_items`,
  `t11`.`net_revenue`,
  `t11`.`net_cost`,
  `t11`.`net_revenue` - `t11`.`net_cost` AS `gross_profit`
FROM (
  SELECT
    `t9`.`order_id`,
    SUM(CAST(NOT (
      `t9`.`status` IN ('cancelled', 'returned')
    ) AS INT64)) AS `net_items`,
    SUM(IF(NOT (
      `t9`.`status` IN ('cancelled', 'returned')
    ), `t9`.`sale_price`, 0.0)) AS `net_revenue`,
    SUM(
      IF(
        NOT (
          `t9`.`status` IN ('cancelled', 'returned')
        ),
        COALESCE(`t9`.`product_cost`, 0.0),
        0.0
      )
    ) AS `net_cost`
  FROM (
    SELECT
      `t8`.`order_item_id`,
      `t8`.`order_id`,
      `t8`.`user_id`,
      `t8`.`product_id`,
      `t8`.`inventory_item_id`,
      `t8`.`status`,
      `t8`.`sale_price`,
      `t8`.`created_at`,
      `t8`.`shipped_at`,
      `t8`.`delivered_at`,
      `t8`.`returned_at`,
      `t8`.`order_date`,
      `t7`.`product_id` AS `product_id_right`,
      `t7`.`product_cost`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`stg_order_items` AS `t1`
      WHERE
        `t1`.`status` <> 'cancelled'
    ) AS `t8`
    LEFT OUTER JOIN (
      SELECT
        `t2`.`product_id`,
        `t2`.`cost` AS `product_cost`
      FROM `my-project`.`ecom`.`stg_products` AS `t2`
    ) AS `t7`
      ON `t8`.`product_id` = `t7`.`product_id`
  ) AS `t9`
  GROUP BY
    1
) AS `t11`
INNER JOIN (
  SELECT
    `t0`.`order_id`,
    `t0`.`user_id`,
    `t0`.`order_date`,
    `t0`.`created_at` AS `ordered_at`
  FROM `my-project`.`ecom`.`stg_orders` AS `t0`
) AS `t5`
  ON `t11`.`order_id` = `t5`.`order_id`
