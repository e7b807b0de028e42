SELECT
  `t13`.`order_id`,
  `t13`.`user_id`,
  `t13`.`order_date`,
  `t13`.`ordered_at`,
  `t13`.`net_revenue`,
  `t13`.`gross_profit`,
  `t13`.`session_id`,
  `t13`.`traffic_source`,
  `t13`.`platform`,
  `t10`.`campaign_id`,
  CASE
    WHEN `t10`.`campaign_id` IS NOT NULL
    THEN 'attributed'
    WHEN (
      `t13`.`session_id` IS NOT NULL
    ) AND (
      `t13`.`platform` IS NULL
    )
    THEN 'organic'
    ELSE 'unmatched'
  END AS `attribution_status`
FROM (
  SELECT
    *
  FROM (
    SELECT
      `t9`.`order_id`,
      `t9`.`user_id`,
      `t9`.`ordered_at`,
      `t9`.`order_date`,
      `t9`.`net_revenue`,
      `t9`.`gross_profit`,
      `t9`.`session_id`,
      `t9`.`visitor_id`,
      `t9`.`session_start`,
      `t9`.`traffic_source`,
      `t9`.`platform`,
      ROW_NUMBER() OVER (
        PARTITION BY `t9`.`order_id`
        ORDER BY `t9`.`session_start` DESC, `t9`.`session_id` ASC
      ) - 1 AS `touch`
    FROM (
      SELECT
        `t5`.`order_id`,
        `t5`.`user_id`,
        `t5`.`ordered_at`,
        `t5`.`order_date`,
        `t5`.`net_revenue`,
        `t5`.`gross_profit`,
        `t6`.`session_id`,
        `t6`.`visitor_id`,
        `t6`.`session_start`,
        `t6`.`traffic_source`,
        `t6`.`platform`
      FROM (
        SELECT
          `t1`.`order_id`,
          `t1`.`user_id`,
          `t1`.`ordered_at`,
          `t1`.`order_date`,
          `t1`.`net_revenue`,
          `t1`.`gross_profit`
        FROM `my-project`.`ecom`.`int_orders` AS `t1`
      ) AS `t5`
      LEFT OUTER JOIN (
        SELECT
          `t2`.`session_id`,
          `t2`.`visitor_id`,
          `t2`.`session_start`,
          `t2`.`traffic_source`,
          `t2`.`platform`
        FROM `my-project`.`ecom`.`fact_session_metrics` AS `t2`
      ) AS `t6`
        ON `t6`.`visitor_id` = CONCAT('u', CAST(`t5`.`user_id` AS STRING))
        AND `t6`.`session_start` <= `t5`.`ordered_at`
        AND TIMESTAMP_ADD(`t6`.`session_start`, INTERVAL '24' HOUR) >= `t5`.`ordered_at`
    ) AS `t9`
  ) AS `t11`
  WHERE
    `t11`.`touch` = 0
) AS `t13`
LEFT OUTER JOIN (
  SELECT
    `t7`.`spend_date`,
    `t7`.`platform`,
    `t7`.`campaign_id`
  FROM (
    SELECT
      `t0`.`spend_date`,
      `t0`.`campaign_id`,
      `t0`.`platform`,
      `t0`.`spend`,
      `t0`.`clicks`,
      `t0`.`impressions`,
      ROW_NUMBER() OVER (
        PARTITION BY `t0`.`spend_date`, `t0`.`platform`
        ORDER BY COALESCE(`t0`.`clicks`, 0) DESC, `t0`.`campaign_id` ASC
      ) - 1 AS `choice`
    FROM `my-project`.`ecom`.`stg_marketing` AS `t0`
  ) AS `t7`
  WHERE
    `t7`.`choice` = 0
) AS `t10`
  ON `t13`.`order_date` = `t10`.`spend_date` AND `t13`.`platform` = `t10`.`platform`
