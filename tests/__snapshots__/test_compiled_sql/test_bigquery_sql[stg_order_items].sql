SELECT
  `t4`.`id` AS `order_item_id`,
  `t4`.`order_id`,
  `t4`.`user_id`,
  `t4`.`product_id`,
  `t4`.`inventory_item_id`,
  CASE
    WHEN LOWER(`t4`.`status`) = 'cancelled'
    THEN 'cancelled'
    WHEN `t4`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'returned'
    WHEN `t4`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'complete'
    WHEN `t4`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'shipped'
    ELSE 'processing'
  END AS `status`,
  `t4`.`sale_price`,
  `t4`.`created_at`,
  IF(
    `t4`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t4`.`shipped_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `shipped_at`,
  IF(
    `t4`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t4`.`delivered_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `delivered_at`,
  IF(
    `t4`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t4`.`returned_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `returned_at`,
  `t5`.`order_date`
FROM (
  SELECT
    *
  FROM `bigquery-public-data`.`thelook_ecommerce`.`order_items` AS `t0`
  WHERE
    `t0`.`created_at` IS NOT NULL
) AS `t4`
INNER JOIN (
  SELECT
    `t1`.`order_id`,
    DATE(`t1`.`created_at`) AS `order_date`
  FROM `bigquery-public-data`.`thelook_ecommerce`.`orders` AS `t1`
  WHERE
    `t1`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
) AS `t5`
  ON `t4`.`order_id` = `t5`.`order_id`
