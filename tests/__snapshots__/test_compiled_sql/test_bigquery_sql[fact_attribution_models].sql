WITH `t35` AS (
  SELECT
    `t34`.`order_id`,
    `t34`.`user_id`,
    `t34`.`order_date`,
    `t34`.`ordered_at`,
    `t34`.`net_revenue`,
    `t34`.`gross_profit`,
    `t34`.`session_id`,
    `t34`.`visitor_id`,
    `t34`.`session_start`,
    `t34`.`channel`,
    ROW_NUMBER() OVER (
      PARTITION BY `t34`.`order_id`
      ORDER BY `t34`.`session_start` ASC, `t34`.`session_id` ASC
    ) - 1 AS `touch`,
    COUNT(*) OVER (
      PARTITION BY `t34`.`order_id`
      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
    ) AS `touches`
  FROM (
    SELECT
      `t27`.`order_id`,
      `t27`.`user_id`,
      `t27`.`order_date`,
      `t27`.`ordered_at`,
      `t27`.`net_revenue`,
      `t27`.`gross_profit`,
      `t31`.`session_id`,
      `t31`.`visitor_id`,
      `t31`.`session_start`,
      `t31`.`channel`
    FROM (
      SELECT
        `t2`.`order_id`,
        `t2`.`user_id`,
        `t2`.`order_date`,
        `t2`.`ordered_at`,
        `t2`.`net_revenue`,
        `t2`.`gross_profit`
      FROM `my-project`.`ecom`.`int_campaign_attribution` AS `t2`
    ) AS `t27`
    INNER JOIN (
      SELECT
        `t3`.`session_id`,
        `t3`.`visitor_id`,
        `t3`.`session_start`,
        COALESCE(`t3`.`platform`, 'Organic') AS `channel`
      FROM `my-project`.`ecom`.`fact_session_metrics` AS `t3`
    ) AS `t31`
      ON `t31`.`visitor_id` = CONCAT('u', CAST(`t27`.`user_id` AS STRING))
      AND `t31`.`session_start` <= `t27`.`ordered_at`
      AND `t31`.`session_start` >= TIMESTAMP_SUB(`t27`.`ordered_at`, INTERVAL '7' DAY)
  ) AS `t34`
), `t43` AS (
  SELECT
    *
  FROM (
    SELECT
      `t41`.`order_date`,
      `t41`.`channel`,
      `t41`.`net_revenue`,
      `t41`.`gross_profit`,
      IF(`t41`.`touch` = (
        `t41`.`touches` - 1
      ), 1.0, 0.0) AS `last_touch`,
      IF(`t41`.`touch` = 0, 1.0, 0.0) AS `first_touch`,
      ieee_divide(1.0, `t41`.`touches`) AS `linear`,
      CASE
        WHEN `t41`.`touches` = 1
        THEN 1.0
        WHEN `t41`.`touches` = 2
        THEN 0.5
        WHEN (
          `t41`.`touch` = 0
        ) OR (
          `t41`.`touch` = (
            `t41`.`touches` - 1
          )
        )
        THEN 0.4
        ELSE ieee_divide(0.2, `t41`.`touches` - 2)
      END AS `position_based`,
      ieee_divide(`t41`.`weight`, `t41`.`total_weight`) AS `time_decay`
    FROM (
      SELECT
        `t40`.`order_id`,
        `t40`.`user_id`,
        `t40`.`order_date`,
        `t40`.`ordered_at`,
        `t40`.`net_revenue`,
        `t40`.`gross_profit`,
        `t40`.`session_id`,
        `t40`.`visitor_id`,
        `t40`.`session_start`,
        `t40`.`channel`,
        `t40`.`touch`,
        `t40`.`touches`,
        `t40`.`last_start`,
        `t40`.`weight`,
        SUM(`t40`.`weight`) OVER (
          PARTITION BY `t40`.`order_id`
          ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS `total_weight`
      FROM (
        SELECT
          `t38`.`order_id`,
          `t38`.`user_id`,
          `t38`.`order_date`,
          `t38`.`ordered_at`,
          `t38`.`net_revenue`,
          `t38`.`gross_profit`,
          `t38`.`session_id`,
          `t38`.`visitor_id`,
          `t38`.`session_start`,
          `t38`.`channel`,
          `t38`.`touch`,
          `t38`.`touches`,
          `t38`.`last_start`,
          POWER(
            2.0,
            ieee_divide(
              -(
                ieee_divide(
                  TIMESTAMP_DIFF(`t38`.`last_start`, `t38`.`session_start`, MICROSECOND),
                  3600000000.0
                )
              ),
              24
            )
          ) AS `weight`
        FROM (
          SELECT
            `t36`.`order_id`,
            `t36`.`user_id`,
            `t36`.`order_date`,
            `t36`.`ordered_at`,
            `t36`.`net_revenue`,
            `t36`.`gross_profit`,
            `t36`.`session_id`,
            `t36`.`visitor_id`,
            `t36`.`session_start`,
            `t36`.`channel`,
            `t36`.`touch`,
            `t36`.`touches`,
            MAX(`t36`.`session_start`) OVER (
              PARTITION BY `t36`.`order_id`
              ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
            ) AS `last_start`
          FROM `t35` AS `t36`
        ) AS `t38`
      ) AS `t40`
    ) AS `t41`
  ) AS `t42`
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      `t27`.`order_date`,
      'Unattributed' AS `channel`,
      `t27`.`net_revenue`,
      `t27`.`gross_profit`,
      1.0 AS `last_touch`,
      1.0 AS `first_touch`,
      1.0 AS `linear`,
      1.0 AS `position_based`,
      1.0 AS `time_decay`
    FROM (
      SELECT
        `t2`.`order_id`,
        `t2`.`user_id`,
        `t2`.`order_date`,
        `t2`.`ordered_at`,
        `t2`.`net_revenue`,
        `t2`.`gross_profit`
      FROM `my-project`.`ecom`.`int_campaign_attribution` AS `t2`
    ) AS `t27`
    WHERE
      NOT EXISTS(
        SELECT
          1
        FROM `t35` AS `t37`
        WHERE
          `t27`.`order_id` = `t37`.`order_id`
      )
  ) AS `t39`
)
SELECT
  `t23`.`date`,
  `t32`.`channel`,
  `t33`.`attribution_model`,
  COALESCE(`t55`.`credited_orders`, 0.0) AS `credited_orders`,
  COALESCE(`t55`.`credited_revenue`, 0.0) AS `credited_revenue`,
  COALESCE(`t55`.`credited_gross_profit`, 0.0) AS `credited_gross_profit`,
  IF(
    `t32`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
    COALESCE(`t25`.`platform_spend`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `spend`,
  IF(
    IF(
      `t32`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
      COALESCE(`t25`.`platform_spend`, 0.0),
      CAST(NULL AS FLOAT64)
    ) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      COALESCE(`t55`.`credited_revenue`, 0.0),
      IF(
        `t32`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
        COALESCE(`t25`.`platform_spend`, 0.0),
        CAST(NULL AS FLOAT64)
      )
    )
  ) AS `roas`,
  IF(
    COALESCE(`t55`.`credited_orders`, 0.0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t32`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
        COALESCE(`t25`.`platform_spend`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t55`.`credited_orders`, 0.0)
    )
  ) AS `cpa`
FROM (
  SELECT
    `t0`.`date`
  FROM `my-project`.`ecom`.`fact_daily_pnl` AS `t0`
) AS `t23`
CROSS JOIN (
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        'Organic' AS `channel`
    ) AS `t8`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        'Unattributed' AS `channel`
    ) AS `t9`
  ) AS `t19`
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          'Google' AS `channel`
      ) AS `t4`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          'Facebook' AS `channel`
      ) AS `t5`
    ) AS `t16`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          'YouTube' AS `channel`
      ) AS `t6`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          'Email' AS `channel`
      ) AS `t7`
    ) AS `t17`
  ) AS `t24`
) AS `t32`
CROSS JOIN (
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        'linear' AS `attribution_model`
    ) AS `t10`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        'position_based' AS `attribution_model`
    ) AS `t11`
  ) AS `t20`
  UNION ALL
  SELECT
    *
  FROM (
    SELECT
      *
    FROM (
      SELECT
        'time_decay' AS `attribution_model`
    ) AS `t12`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          'last_touch' AS `attribution_model`
      ) AS `t13`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          'first_touch' AS `attribution_model`
      ) AS `t14`
    ) AS `t21`
  ) AS `t26`
) AS `t33`
LEFT OUTER JOIN (
  SELECT
    `t53`.`order_date` AS `date`,
    `t53`.`channel`,
    `t53`.`attribution_model`,
    SUM(`t53`.`credit`) AS `credited_orders`,
    SUM(`t53`.`credit` * `t53`.`net_revenue`) AS `credited_revenue`,
    SUM(`t53`.`credit` * `t53`.`gross_profit`) AS `credited_gross_profit`
  FROM (
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t44`.`order_date`,
          `t44`.`channel`,
          `t44`.`net_revenue`,
          `t44`.`gross_profit`,
          'linear' AS `attribution_model`,
          `t44`.`linear` AS `credit`
        FROM `t43` AS `t44`
      ) AS `t45`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          `t44`.`order_date`,
          `t44`.`channel`,
          `t44`.`net_revenue`,
          `t44`.`gross_profit`,
          'position_based' AS `attribution_model`,
          `t44`.`position_based` AS `credit`
        FROM `t43` AS `t44`
      ) AS `t46`
    ) AS `t50`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t44`.`order_date`,
          `t44`.`channel`,
          `t44`.`net_revenue`,
          `t44`.`gross_profit`,
          'time_decay' AS `attribution_model`,
          `t44`.`time_decay` AS `credit`
        FROM `t43` AS `t44`
      ) AS `t47`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            `t44`.`order_date`,
            `t44`.`channel`,
            `t44`.`net_revenue`,
            `t44`.`gross_profit`,
            'last_touch' AS `attribution_model`,
            `t44`.`last_touch` AS `credit`
          FROM `t43` AS `t44`
        ) AS `t48`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            `t44`.`order_date`,
            `t44`.`channel`,
            `t44`.`net_revenue`,
            `t44`.`gross_profit`,
            'first_touch' AS `attribution_model`,
            `t44`.`first_touch` AS `credit`
          FROM `t43` AS `t44`
        ) AS `t49`
      ) AS `t51`
    ) AS `t52`
  ) AS `t53`
  GROUP BY
    1,
    2,
    3
) AS `t55`
  ON `t23`.`date` = `t55`.`date`
  AND `t32`.`channel` = `t55`.`channel`
  AND `t33`.`attribution_model` = `t55`.`attribution_model`
LEFT OUTER JOIN (
  SELECT
    `t1`.`spend_date` AS `date`,
    `t1`.`platform` AS `channel`,
    `t1`.`spend` AS `platform_spend`
  FROM `my-project`.`ecom`.`int_daily_marketing` AS `t1`
) AS `t25`
  ON `t23`.`date` = `t25`.`date` AND `t32`.`channel` = `t25`.`channel`
