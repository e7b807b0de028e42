SELECT
  `t0`.`id` AS `user_id`,
  `t0`.`age`,
  `t0`.`gender`,
  `t0`.`city`,
  `t0`.`state`,
  `t0`.`country`,
  `t0`.`traffic_source` AS `acquisition_source`,
  `t0`.`created_at`,
  DATE(`t0`.`created_at`) AS `signup_date`
FROM `bigquery-public-data`.`thelook_ecommerce`.`users` AS `t0`
WHERE
  `t0`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
