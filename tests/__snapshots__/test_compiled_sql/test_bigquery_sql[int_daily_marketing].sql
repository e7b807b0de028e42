SELECT
  *
FROM (
  SELECT
    `t0`.`spend_date`,
    `t0`.`platform`,
    SUM(COALESCE(`t0`.`spend`, 0)) AS `spend`,
    SUM(COALESCE(`t0`.`clicks`, 0)) AS `clicks`,
    SUM(COALESCE(`t0`.`impressions`, 0)) AS `impressions`,
    COUNT(DISTINCT `t0`.`campaign_id`) AS `campaigns`
  FROM `my-project`.`ecom`.`stg_marketing` AS `t0`
  GROUP BY
    1,
    2
) AS `t1`
