WITH `t10` AS (
  SELECT
    *
  FROM (
    SELECT
      `t6`.`order_item_id`,
      `t6`.`order_id`,
      `t7`.`user_id`,
      `t7`.`ordered_at`,
      `t6`.`order_date`,
      `t6`.`product_id`,
      `t6`.`status`,
      `t6`.`sale_price`,
      `t8`.`product_cost`
    FROM (
      SELECT
        `t0`.`order_item_id`,
        `t0`.`order_id`,
        `t0`.`order_date`,
        `t0`.`product_id`,
        `t0`.`status`,
        `t0`.`sale_price`
      FROM `my-project`.`ecom`.`stg_order_items` AS `t0`
    ) AS `t6`
    INNER JOIN (
      SELECT
        `t1`.`order_id`,
        `t1`.`user_id`,
        `t1`.`created_at` AS `ordered_at`
      FROM `my-project`.`ecom`.`stg_orders` AS `t1`
    ) AS `t7`
      ON `t6`.`order_id` = `t7`.`order_id`
    LEFT OUTER JOIN (
      SELECT
        `t2`.`product_id`,
        `t2`.`cost` AS `product_cost`
      FROM `my-project`.`ecom`.`stg_products` AS `t2`
    ) AS `t8`
      ON `t6`.`product_id` = `t8`.`product_id`
  ) AS `t9`
  WHERE
    `t9`.`status` <> 'cancelled'
)
SELECT
  `t16`.`order_date`,
  `t16`.`orders`,
  `t16`.`items_sold`,
  `t16`.`gross_revenue`,
  `t16`.`returned_revenue`,
  `t16`.`gross_revenue` - `t16`.`returned_revenue` AS `net_revenue`,
  `t16`.`cogs`,
  (
    `t16`.`gross_revenue` - `t16`.`returned_revenue`
  ) - `t16`.`cogs` AS `gross_profit`,
  `t16`.`customers`,
  COALESCE(`t15`.`new_customers`, 0) AS `new_customers`
FROM (
  SELECT
    `t11`.`order_date`,
    COUNT(DISTINCT `t11`.`order_id`) AS `orders`,
    COUNT(
      IF(NOT (
        `t11`.`status` IN ('cancelled', 'returned')
      ), `t11`.`order_item_id`, NULL)
    ) AS `items_sold`,
    SUM(`t11`.`sale_price`) AS `gross_revenue`,
    COALESCE(SUM(IF(`t11`.`status` = 'returned', `t11`.`sale_price`, NULL)), 0) AS `returned_revenue`,
    COALESCE(
      SUM(
        IF(NOT (
          `t11`.`status` IN ('cancelled', 'returned')
        ), `t11`.`product_cost`, NULL)
      ),
      0
    ) AS `cogs`,
    COUNT(DISTINCT `t11`.`user_id`) AS `customers`
  FROM `t10` AS `t11`
  GROUP BY
    1
) AS `t16`
LEFT OUTER JOIN (
  SELECT
    `t12`.`first_order_date` AS `order_date`,
    COUNT(`t12`.`user_id`) AS `new_customers`
  FROM (
    SELECT
      `t11`.`user_id`,
      MIN(`t11`.`order_date`) AS `first_order_date`
    FROM `t10` AS `t11`
    GROUP BY
      1
  ) AS `t12`
  GROUP BY
    1
) AS `t15`
  ON `t16`.`order_date` = `t15`.`order_date`
