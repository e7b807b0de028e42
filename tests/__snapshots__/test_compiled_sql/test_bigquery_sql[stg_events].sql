SELECT
  `t0`.`id` AS `event_id`,
  `t0`.`user_id`,
  `t0`.`session_id` AS `source_session_id`,
  `t0`.`sequence_number`,
  SUBSTRING(
    IF(
      `t0`.`ip_address` IS NULL,
      CAST(NULL AS STRING),
      TO_HEX(SHA256(CONCAT(@visitor_salt, `t0`.`ip_address`)))
    ),
    IF(
      (
        0 + 1
      ) >= 1,
      0 + 1,
      0 + 1 + LENGTH(
        IF(
          `t0`.`ip_address` IS NULL,
          CAST(NULL AS STRING),
          TO_HEX(SHA256(CONCAT(@visitor_salt, `t0`.`ip_address`)))
        )
      )
    ),
    16
  ) AS `ip_hash`,
  `t0`.`browser`,
  `t0`.`traffic_source`,
  `t0`.`uri`,
  LOWER(`t0`.`event_type`) AS `event_type`,
  `t0`.`created_at`,
  DATE(`t0`.`created_at`) AS `event_date`
FROM `bigquery-public-data`.`thelook_ecommerce`.`events` AS `t0`
WHERE
  `t0`.`created_at` < TIMESTAMP('2024-07-01T00:00:00+00:00')
