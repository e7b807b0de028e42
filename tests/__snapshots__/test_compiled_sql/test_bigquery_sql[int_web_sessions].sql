SELECT
  `t4`.`event_id`,
  `t4`.`visitor_id`,
  `t4`.`user_id`,
  `t4`.`session_number`,
  CONCAT(CONCAT(`t4`.`visitor_id`, '-'), CAST(`t4`.`session_number` AS STRING)) AS `session_id`,
  `t4`.`is_session_start`,
  `t4`.`created_at`,
  `t4`.`event_date`,
  `t4`.`event_type`,
  `t4`.`uri`,
  `t4`.`traffic_source`,
  `t4`.`browser`
FROM (
  SELECT
    `t3`.`event_id`,
    `t3`.`user_id`,
    `t3`.`created_at`,
    `t3`.`event_date`,
    `t3`.`event_type`,
    `t3`.`uri`,
    `t3`.`traffic_source`,
    `t3`.`browser`,
    `t3`.`visitor_id`,
    `t3`.`previous_at`,
    `t3`.`is_session_start`,
    SUM(IF(`t3`.`is_session_start`, 1, 0)) OVER (
      PARTITION BY `t3`.`visitor_id`
      ORDER BY `t3`.`created_at` ASC, `t3`.`event_id` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `session_number`
  FROM (
    SELECT
      `t2`.`event_id`,
      `t2`.`user_id`,
      `t2`.`created_at`,
      `t2`.`event_date`,
      `t2`.`event_type`,
      `t2`.`uri`,
      `t2`.`traffic_source`,
      `t2`.`browser`,
      `t2`.`visitor_id`,
      `t2`.`previous_at`,
      (
        `t2`.`previous_at` IS NULL
      )
      OR (
        `t2`.`created_at` > TIMESTAMP_ADD(`t2`.`previous_at`, INTERVAL '30' MINUTE)
      ) AS `is_session_start`
    FROM (
      SELECT
        `t1`.`event_id`,
        `t1`.`user_id`,
        `t1`.`created_at`,
        `t1`.`event_date`,
        `t1`.`event_type`,
        `t1`.`uri`,
        `t1`.`traffic_source`,
        `t1`.`browser`,
        `t1`.`visitor_id`,
        LAG(`t1`.`created_at`) OVER (
          PARTITION BY `t1`.`visitor_id`
          ORDER BY `t1`.`created_at` ASC, `t1`.`event_id` ASC
        ) AS `previous_at`
      FROM (
        SELECT
          `t0`.`event_id`,
          `t0`.`user_id`,
          `t0`.`created_at`,
          `t0`.`event_date`,
          `t0`.`event_type`,
          `t0`.`uri`,
          `t0`.`traffic_source`,
          `t0`.`browser`,
          CASE
            WHEN `t0`.`user_id` IS NOT NULL
            THEN CONCAT('u', CAST(`t0`.`user_id` AS STRING))
            WHEN `t0`.`ip_hash` IS NOT NULL
            THEN CONCAT('a', `t0`.`ip_hash`)
            ELSE CONCAT('e', CAST(`t0`.`event_id` AS STRING))
          END AS `visitor_id`
        FROM `my-project`.`ecom`.`stg_events` AS `t0`
      ) AS `t1`
    ) AS `t2`
  ) AS `t3`
) AS `t4`
