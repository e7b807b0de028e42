SELECT
  `t0`.`date` AS `spend_date`,
  `t0`.`campaign_id`,
  `t0`.`platform`,
  `t0`.`spend`,
  `t0`.`clicks`,
  `t0`.`impressions`
FROM `bigquery-public-data`.`thelook_ecommerce`.`marketing_spend` AS `t0`
WHERE
  `t0`.`date` <= DATE(2024, 6, 30)
