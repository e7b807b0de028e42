SELECT
  `t3`.`user_id`,
  `t3`.`signup_date`,
  `t3`.`acquisition_source`,
  `t6`.`first_order_at`,
  DATE(`t6`.`first_order_at`) AS `first_order_date`,
  DATE_DIFF(DATE(`t6`.`first_order_at`), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t3`.`signup_date`, DATE(1970, 1, 1), DAY) AS `days_to_first_order`,
  `t9`.`first_touch_traffic_source`
FROM `my-project`.`ecom`.`stg_users` AS `t3`
LEFT OUTER JOIN (
  SELECT
    `t1`.`user_id`,
    MIN(`t1`.`ordered_at`) AS `first_order_at`
  FROM `my-project`.`ecom`.`int_orders` AS `t1`
  GROUP BY
    1
) AS `t6`
  ON `t3`.`user_id` = `t6`.`user_id`
LEFT OUTER JOIN (
  SELECT
    `t7`.`user_id`,
    `t7`.`traffic_source` AS `first_touch_traffic_source`
  FROM (
    SELECT
      `t5`.`event_id`,
      `t5`.`user_id`,
      `t5`.`source_session_id`,
      `t5`.`sequence_number`,
      `t5`.`ip_hash`,
      `t5`.`browser`,
      `t5`.`traffic_source`,
      `t5`.`uri`,
      `t5`.`event_type`,
      `t5`.`created_at`,
      `t5`.`event_date`,
      ROW_NUMBER() OVER (PARTITION BY `t5`.`user_id` ORDER BY `t5`.`created_at` ASC, `t5`.`event_id` ASC) - 1 AS `touch`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`stg_events` AS `t2`
      WHERE
        `t2`.`user_id` IS NOT NULL
    ) AS `t5`
  ) AS `t7`
  WHERE
    `t7`.`touch` = 0
) AS `t9`
  ON `t3`.`user_id` = `t9`.`user_id`
