SELECT
  `t2`.`id` AS `order_item_id`,
  `t2`.`order_id`,
  `t2`.`user_id`,
  `t2`.`product_id`,
  `t2`.`inventory_item_id`,
  CASE
    WHEN LOWER(`t2`.`status`) = 'cancelled'
    THEN 'cancelled'
    WHEN `t2`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'returned'
    WHEN `t2`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'complete'
    WHEN `t2`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'shipped'
    ELSE 'processing'
  END AS `status`,
  `t2`.`sale_price`,
  `t2`.`created_at`,
  IF(
    `t2`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t2`.`shipped_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `shipped_at`,
  IF(
    `t2`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t2`.`delivered_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `delivered_at`,
  IF(
    `t2`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t2`.`returned_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `returned_at`,
  `t4`.`order_date`
FROM `bigquery-public-data`.`thelook_ecommerce`.`order_items` AS `t2`
INNER JOIN (
  SELECT
    `t1`.`order_id`,
    DATE(`t1`.`created_at`) AS `order_date`
  FROM `bigquery-public-data`.`thelook_ecommerce`.`orders` AS `t1`
  WHERE
    `t1`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
) AS `t4`
  ON `t2`.`order_id` = `t4`.`order_id`
