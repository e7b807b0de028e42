SELECT
  `t0`.`id` AS `product_id`,
  `t0`.`name`,
  `t0`.`brand`,
  `t0`.`category`,
  `t0`.`department`,
  `t0`.`sku`,
  `t0`.`cost`,
  `t0`.`retail_price`,
  `t0`.`distribution_center_id`
FROM `bigquery-public-data`.`thelook_ecommerce`.`products` AS `t0`
