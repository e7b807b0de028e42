WITH `t18` AS (
  SELECT
    `t0`.`order_id`,
    `t0`.`user_id`,
    `t0`.`ordered_at`,
    `t0`.`order_date`,
    `t0`.`net_items`,
    `t0`.`net_revenue`,
    `t0`.`net_cost`,
    `t0`.`gross_profit`,
    DATE(EXTRACT(year FROM `t0`.`order_date`), EXTRACT(month FROM `t0`.`order_date`), 1) AS `order_month`
  FROM `my-project`.`ecom`.`int_orders` AS `t0`
), `t21` AS (
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
          4 AS `digit`
      ) AS `t2`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          5 AS `digit`
      ) AS `t3`
    ) AS `t11`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          6 AS `digit`
      ) AS `t4`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          7 AS `digit`
      ) AS `t5`
    ) AS `t12`
  ) AS `t16`
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
          8 AS `digit`
      ) AS `t6`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          9 AS `digit`
      ) AS `t7`
    ) AS `t13`
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
            0 AS `digit`
        ) AS `t1`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            1 AS `digit`
        ) AS `t8`
      ) AS `t14`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            2 AS `digit`
        ) AS `t9`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            3 AS `digit`
        ) AS `t10`
      ) AS `t15`
    ) AS `t17`
  ) AS `t19`
), `t29` AS (
  SELECT
    `t20`.`user_id`,
    MIN(`t20`.`order_month`) AS `cohort_month`
  FROM `t18` AS `t20`
  GROUP BY
    1
), `t42` AS (
  SELECT
    `t30`.`cohort_month`,
    COUNT(*) AS `cohort_size`
  FROM `t29` AS `t30`
  GROUP BY
    1
)
SELECT
  `t57`.`cohort_month`,
  `t57`.`months_since_first`,
  `t57`.`cohort_size`,
  COALESCE(`t50`.`active_customers`, 0) AS `active_customers`,
  IF(
    `t57`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t50`.`active_customers`, 0), `t57`.`cohort_size`)
  ) AS `retention_rate`,
  COALESCE(`t50`.`net_revenue`, 0.0) AS `net_revenue`,
  IF(
    `t57`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      SUM(COALESCE(`t50`.`net_revenue`, 0.0)) OVER (
        PARTITION BY `t57`.`cohort_month`
        ORDER BY `t57`.`months_since_first` ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      `t57`.`cohort_size`
    )
  ) AS `cumulative_net_revenue_per_customer`
FROM (
  SELECT
    `t44`.`cohort_month`,
    `t44`.`cohort_size`,
    (
      (
        (
          EXTRACT(year FROM `t54`.`month`) * 12
        ) + EXTRACT(month FROM `t54`.`month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t44`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t44`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`
  FROM `t42` AS `t44`
  INNER JOIN (
    SELECT
      `t52`.`date` AS `month`
    FROM (
      SELECT
        DATE(TIMESTAMP_ADD(CAST(`t51`.`start` AS TIMESTAMP), INTERVAL `t51`.`offset` DAY)) AS `date`
      FROM (
        SELECT
          `t48`.`start`,
          `t48`.`last`,
          0 + (
            `t37`.`d0` * 1
          ) + (
            `t38`.`d1` * 10
          ) + (
            `t39`.`d2` * 100
          ) + (
            `t40`.`d3` * 1000
          ) + (
            `t41`.`d4` * 10000
          ) AS `offset`
        FROM (
          SELECT
            `t46`.`start`,
            DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t46`.`start`, DATE(1970, 1, 1), DAY) AS `last`
          FROM (
            SELECT
              MIN(`t43`.`cohort_month`) AS `start`
            FROM `t42` AS `t43`
          ) AS `t46`
        ) AS `t48`
        CROSS JOIN (
          SELECT
            `t24`.`digit` AS `d0`
          FROM `t21` AS `t24`
        ) AS `t37`
        CROSS JOIN (
          SELECT
            `t25`.`digit` AS `d1`
          FROM `t21` AS `t25`
        ) AS `t38`
        CROSS JOIN (
          SELECT
            `t26`.`digit` AS `d2`
          FROM `t21` AS `t26`
        ) AS `t39`
        CROSS JOIN (
          SELECT
            `t27`.`digit` AS `d3`
          FROM `t21` AS `t27`
        ) AS `t40`
        CROSS JOIN (
          SELECT
            `t28`.`digit` AS `d4`
          FROM `t21` AS `t28`
        ) AS `t41`
      ) AS `t51`
      WHERE
        `t51`.`offset` <= `t51`.`last`
    ) AS `t52`
    WHERE
      EXTRACT(day FROM `t52`.`date`) = 1
  ) AS `t54`
    ON `t54`.`month` >= `t44`.`cohort_month`
) AS `t57`
LEFT OUTER JOIN (
  SELECT
    `t45`.`cohort_month`,
    (
      (
        (
          EXTRACT(year FROM `t45`.`order_month`) * 12
        ) + EXTRACT(month FROM `t45`.`order_month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t45`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t45`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`,
    COUNT(DISTINCT `t45`.`user_id`) AS `active_customers`,
    SUM(`t45`.`net_revenue`) AS `net_revenue`
  FROM (
    SELECT
      `t22`.`order_id`,
      `t22`.`user_id`,
      `t22`.`ordered_at`,
      `t22`.`order_date`,
      `t22`.`net_items`,
      `t22`.`net_revenue`,
      `t22`.`net_cost`,
      `t22`.`gross_profit`,
      `t22`.`order_month`,
      `t36`.`cohort_month`
    FROM `t18` AS `t22`
    INNER JOIN `t29` AS `t36`
      ON `t22`.`user_id` = `t36`.`user_id`
  ) AS `t45`
  GROUP BY
    1,
    2
) AS `t50`
  ON `t57`.`cohort_month` = `t50`.`cohort_month`
  AND `t57`.`months_since_first` = `t50`.`months_since_first`
