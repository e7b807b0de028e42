SELECT
  `t0`.`id` AS `inventory_item_id`,
  `t0`.`product_id`,
  `t0`.`cost`,
  `t0`.`created_at`,
  IF(
    `t0`.`sold_at` < TIMESTAMP('2024-07-01T00:00:00+00:00'),
    `t0`.`sold_at`,
    CAST(NULL AS TIMESTAMP)
  ) AS `sold_at`
FROM `bigquery-public-data`.`thelook_ecommerce`.`inventory_items` AS `t0`
WHERE
  `t0`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
