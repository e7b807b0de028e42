SELECT
  `t0`.`order_id`,
  `t0`.`user_id`,
  CASE
    WHEN LOWER(`t0`.`status`) = 'cancelled'
    THEN 'cancelled'
    WHEN `t0`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'returned'
    WHEN `t0`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'complete'
    WHEN `t0`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
    THEN 'shipped'
    ELSE 'processing'
  END AS `status`,
  `t0`.`num_of_item` AS `item_count`,
  `t0`.`created_at`,
  IF(
    `t0`.`shipped_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t0`.`shipped_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `shipped_at`,
  IF(
    `t0`.`delivered_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t0`.`delivered_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `delivered_at`,
  IF(
    `t0`.`returned_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t0`.`returned_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `returned_at`,
  DATE(`t0`.`created_at`) AS `order_date`
FROM `bigquery-public-data`.`thelook_ecommerce`.`orders` AS `t0`
WHERE
  `t0`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
