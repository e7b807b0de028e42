SELECT
  `t4`.`user_id`,
  `t4`.`signup_date`,
  `t4`.`acquisition_source`,
  `t16`.`first_order_at`,
  DATE(`t16`.`first_order_at`) AS `first_order_date`,
  DATE_DIFF(DATE(`t16`.`first_order_at`), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t4`.`signup_date`, DATE(1970, 1, 1), DAY) AS `days_to_first_order`,
  `t13`.`first_touch_traffic_source`
FROM `my-project`.`ecom`.`stg_users` AS `t4`
LEFT OUTER JOIN (
  SELECT
    `t14`.`user_id`,
    MIN(`t14`.`ordered_at`) AS `first_order_at`
  FROM (
    SELECT
      `t11`.`order_id`,
      `t8`.`user_id`,
      `t8`.`ordered_at`,
      `t8`.`order_date`,
      `t11`.`net_items`,
      `t11`.`net_revenue`
    FROM (
      SELECT
        `t7`.`order_id`,
        SUM(CAST(NOT (
          `t7`.`status` IN ('cancelled', 'returned')
        ) AS INT64)) AS `net_items`,
        SUM(IF(NOT (
          `t7`.`status` IN ('cancelled', 'returned')
        ), `t7`.`sale_price`, 0.0)) AS `net_revenue`
      FROM (
        SELECT
          *
        FROM `my-project`.`ecom`.`stg_order_items` AS `t2`
        WHERE
          `t2`.`status` <> 'cancelled'
      ) AS `t7`
      GROUP BY
        1
    ) AS `t11`
    INNER JOIN (
      SELECT
        `t3`.`order_id`,
        `t3`.`user_id`,
        `t3`.`order_date`,
        `t3`.`created_at` AS `ordered_at`
      FROM `my-project`.`ecom`.`stg_orders` AS `t3`
    ) AS `t8`
      ON `t11`.`order_id` = `t8`.`order_id`
  ) AS `t14`
  GROUP BY
    1
) AS `t16`
  ON `t4`.`user_id` = `t16`.`user_id`
LEFT OUTER JOIN (
  SELECT
    `t9`.`user_id`,
    `t9`.`traffic_source` AS `first_touch_traffic_source`
  FROM (
    SELECT
      `t6`.`event_id`,
      `t6`.`user_id`,
      `t6`.`source_session_id`,
      `t6`.`sequence_number`,
      `t6`.`ip_address`,
      `t6`.`browser`,
      `t6`.`traffic_source`,
      `t6`.`uri`,
      `t6`.`event_type`,
      `t6`.`created_at`,
      `t6`.`event_date`,
      ROW_NUMBER() OVER (PARTITION BY `t6`.`user_id` ORDER BY `t6`.`created_at` ASC, `t6`.`event_id` ASC) - 1 AS `touch`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`stg_events` AS `t1`
      WHERE
        `t1`.`user_id` IS NOT NULL
    ) AS `t6`
  ) AS `t9`
  WHERE
    `t9`.`touch` = 0
) AS `t13`
  ON `t4`.`user_id` = `t13`.`user_id`
