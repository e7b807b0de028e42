WITH `t13` AS (
  SELECT
    `t2`.`order_id`,
    `t2`.`user_id`,
    `t2`.`order_date`,
    `t2`.`ordered_at`,
    `t2`.`net_revenue`,
    `t2`.`gross_profit`
  FROM `my-project`.`ecom`.`int_campaign_attribution` AS `t2`
), `t32` AS (
  SELECT
    `t27`.`user_id`,
    `t27`.`order_date` AS `first_order_date`,
    DATE(EXTRACT(year FROM `t27`.`order_date`), EXTRACT(month FROM `t27`.`order_date`), 1) AS `cohort_month`,
    COALESCE(`t31`.`channel`, 'Unattributed') AS `channel`
  FROM (
    SELECT
      `t25`.`order_id`,
      `t25`.`user_id`,
      `t25`.`ordered_at`,
      `t25`.`order_date`
    FROM (
      SELECT
        `t15`.`order_id`,
        `t15`.`user_id`,
        `t15`.`order_date`,
        `t15`.`ordered_at`,
        `t15`.`net_revenue`,
        `t15`.`gross_profit`,
        ROW_NUMBER() OVER (
          PARTITION BY `t15`.`user_id`
          ORDER BY `t15`.`ordered_at` ASC, `t15`.`order_id` ASC
        ) - 1 AS `nth`
      FROM `t13` AS `t15`
    ) AS `t25`
    WHERE
      `t25`.`nth` = 0
  ) AS `t27`
  LEFT OUTER JOIN (
    SELECT
      `t29`.`user_id`,
      `t29`.`channel`
    FROM (
      SELECT
        `t28`.`order_id`,
        `t28`.`user_id`,
        `t28`.`ordered_at`,
        `t28`.`order_date`,
        `t28`.`session_id`,
        `t28`.`visitor_id`,
        `t28`.`session_start`,
        `t28`.`channel`,
        ROW_NUMBER() OVER (
          PARTITION BY `t28`.`order_id`
          ORDER BY `t28`.`session_start` ASC, `t28`.`session_id` ASC
        ) - 1 AS `touch`,
        COUNT(*) OVER (
          PARTITION BY `t28`.`order_id`
          ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
        ) AS `touches`
      FROM (
        SELECT
          `t27`.`order_id`,
          `t27`.`user_id`,
          `t27`.`ordered_at`,
          `t27`.`order_date`,
          `t21`.`session_id`,
          `t21`.`visitor_id`,
          `t21`.`session_start`,
          `t21`.`channel`
        FROM (
          SELECT
            `t25`.`order_id`,
            `t25`.`user_id`,
            `t25`.`ordered_at`,
            `t25`.`order_date`
          FROM (
            SELECT
              `t15`.`order_id`,
              `t15`.`user_id`,
              `t15`.`order_date`,
              `t15`.`ordered_at`,
              `t15`.`net_revenue`,
              `t15`.`gross_profit`,
              ROW_NUMBER() OVER (
                PARTITION BY `t15`.`user_id`
                ORDER BY `t15`.`ordered_at` ASC, `t15`.`order_id` ASC
              ) - 1 AS `nth`
            FROM `t13` AS `t15`
          ) AS `t25`
          WHERE
            `t25`.`nth` = 0
        ) AS `t27`
        INNER JOIN (
          SELECT
            `t3`.`session_id`,
            `t3`.`visitor_id`,
            `t3`.`session_start`,
            COALESCE(`t3`.`platform`, 'Organic') AS `channel`
          FROM `my-project`.`ecom`.`fact_session_metrics` AS `t3`
        ) AS `t21`
          ON `t21`.`visitor_id` = CONCAT('u', CAST(`t27`.`user_id` AS STRING))
          AND `t21`.`session_start` <= `t27`.`ordered_at`
          AND `t21`.`session_start` >= TIMESTAMP_SUB(`t27`.`ordered_at`, INTERVAL '7' DAY)
      ) AS `t28`
    ) AS `t29`
    WHERE
      `t29`.`touch` = 0
  ) AS `t31`
    ON `t27`.`user_id` = `t31`.`user_id`
)
SELECT
  `t22`.`cohort_month`,
  `t23`.`channel`,
  COALESCE(`t36`.`new_customers`, 0) AS `new_customers`,
  IF(
    `t23`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
    COALESCE(`t24`.`platform_spend`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `spend`,
  IF(
    COALESCE(`t36`.`new_customers`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t23`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
        COALESCE(`t24`.`platform_spend`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t36`.`new_customers`, 0)
    )
  ) AS `cac`,
  IF(
    `t22`.`cohort_month` < DATE(2024, 6, 1),
    COALESCE(`t39`.`revenue_30d`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `revenue_30d`,
  IF(
    `t22`.`cohort_month` < DATE(2024, 4, 1),
    COALESCE(`t39`.`revenue_90d`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `revenue_90d`,
  IF(
    `t22`.`cohort_month` < DATE(2023, 7, 1),
    COALESCE(`t39`.`revenue_365d`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `revenue_365d`,
  IF(
    `t22`.`cohort_month` < DATE(2023, 7, 1),
    COALESCE(`t39`.`gross_profit_365d`, 0.0),
    CAST(NULL AS FLOAT64)
  ) AS `gross_profit_365d`,
  IF(
    COALESCE(`t36`.`new_customers`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t22`.`cohort_month` < DATE(2024, 6, 1),
        COALESCE(`t39`.`revenue_30d`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t36`.`new_customers`, 0)
    )
  ) AS `ltv_30d`,
  IF(
    COALESCE(`t36`.`new_customers`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t22`.`cohort_month` < DATE(2024, 4, 1),
        COALESCE(`t39`.`revenue_90d`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t36`.`new_customers`, 0)
    )
  ) AS `ltv_90d`,
  IF(
    COALESCE(`t36`.`new_customers`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t22`.`cohort_month` < DATE(2023, 7, 1),
        COALESCE(`t39`.`revenue_365d`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t36`.`new_customers`, 0)
    )
  ) AS `ltv_365d`,
  IF(
    COALESCE(`t36`.`new_customers`, 0) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        `t22`.`cohort_month` < DATE(2023, 7, 1),
        COALESCE(`t39`.`gross_profit_365d`, 0.0),
        CAST(NULL AS FLOAT64)
      ),
      COALESCE(`t36`.`new_customers`, 0)
    )
  ) AS `gp_ltv_365d`,
  IF(
    IF(
      COALESCE(`t36`.`new_customers`, 0) = 0,
      CAST(NULL AS FLOAT64),
      ieee_divide(
        IF(
          `t23`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
          COALESCE(`t24`.`platform_spend`, 0.0),
          CAST(NULL AS FLOAT64)
        ),
        COALESCE(`t36`.`new_customers`, 0)
      )
    ) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      IF(
        COALESCE(`t36`.`new_customers`, 0) = 0,
        CAST(NULL AS FLOAT64),
        ieee_divide(
          IF(
            `t22`.`cohort_month` < DATE(2023, 7, 1),
            COALESCE(`t39`.`gross_profit_365d`, 0.0),
            CAST(NULL AS FLOAT64)
          ),
          COALESCE(`t36`.`new_customers`, 0)
        )
      ),
      IF(
        COALESCE(`t36`.`new_customers`, 0) = 0,
        CAST(NULL AS FLOAT64),
        ieee_divide(
          IF(
            `t23`.`channel` IN ('Google', 'Facebook', 'YouTube', 'Email'),
            COALESCE(`t24`.`platform_spend`, 0.0),
            CAST(NULL AS FLOAT64)
          ),
          COALESCE(`t36`.`new_customers`, 0)
        )
      )
    )
  ) AS `ltv_to_cac_365d`
FROM (
  SELECT DISTINCT
    DATE(EXTRACT(year FROM `t0`.`date`), EXTRACT(month FROM `t0`.`date`), 1) AS `cohort_month`
  FROM `my-project`.`ecom`.`fact_daily_pnl` AS `t0`
) AS `t22`
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
  ) AS `t12`
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
    ) AS `t10`
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
    ) AS `t11`
  ) AS `t14`
) AS `t23`
LEFT OUTER JOIN (
  SELECT
    `t33`.`cohort_month`,
    `t33`.`channel`,
    COUNT(*) AS `new_customers`
  FROM `t32` AS `t33`
  GROUP BY
    1,
    2
) AS `t36`
  ON `t22`.`cohort_month` = `t36`.`cohort_month` AND `t23`.`channel` = `t36`.`channel`
LEFT OUTER JOIN (
  SELECT
    `t37`.`cohort_month`,
    `t37`.`channel`,
    SUM(
      IF(
        (
          DATE_DIFF(`t37`.`order_date`, DATE(1970, 1, 1), DAY) - DATE_DIFF(`t37`.`first_order_date`, DATE(1970, 1, 1), DAY)
        ) <= 29,
        `t37`.`net_revenue`,
        0.0
      )
    ) AS `revenue_30d`,
    SUM(
      IF(
        (
          DATE_DIFF(`t37`.`order_date`, DATE(1970, 1, 1), DAY) - DATE_DIFF(`t37`.`first_order_date`, DATE(1970, 1, 1), DAY)
        ) <= 89,
        `t37`.`net_revenue`,
        0.0
      )
    ) AS `revenue_90d`,
    SUM(
      IF(
        (
          DATE_DIFF(`t37`.`order_date`, DATE(1970, 1, 1), DAY) - DATE_DIFF(`t37`.`first_order_date`, DATE(1970, 1, 1), DAY)
        ) <= 364,
        `t37`.`net_revenue`,
        0.0
      )
    ) AS `revenue_365d`,
    SUM(
      IF(
        (
          DATE_DIFF(`t37`.`order_date`, DATE(1970, 1, 1), DAY) - DATE_DIFF(`t37`.`first_order_date`, DATE(1970, 1, 1), DAY)
        ) <= 364,
        `t37`.`gross_profit`,
        0.0
      )
    ) AS `gross_profit_365d`
  FROM (
    SELECT
      `t20`.`order_id`,
      `t20`.`user_id`,
      `t20`.`order_date`,
      `t20`.`ordered_at`,
      `t20`.`net_revenue`,
      `t20`.`gross_profit`,
      `t34`.`first_order_date`,
      `t34`.`cohort_month`,
      `t34`.`channel`
    FROM `t13` AS `t20`
    INNER JOIN `t32` AS `t34`
      ON `t20`.`user_id` = `t34`.`user_id`
  ) AS `t37`
  GROUP BY
    1,
    2
) AS `t39`
  ON `t22`.`cohort_month` = `t39`.`cohort_month` AND `t23`.`channel` = `t39`.`channel`
LEFT OUTER JOIN (
  SELECT
    DATE(EXTRACT(year FROM `t1`.`spend_date`), EXTRACT(month FROM `t1`.`spend_date`), 1) AS `cohort_month`,
    `t1`.`platform` AS `channel`,
    SUM(`t1`.`spend`) AS `platform_spend`
  FROM `my-project`.`ecom`.`int_daily_marketing` AS `t1`
  GROUP BY
    1,
    2
) AS `t24`
  ON `t22`.`cohort_month` = `t24`.`cohort_month` AND `t23`.`channel` = `t24`.`channel`
