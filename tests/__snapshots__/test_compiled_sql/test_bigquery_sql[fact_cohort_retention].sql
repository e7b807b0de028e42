WITH `t23` AS (
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
      ) AS `t3`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          5 AS `digit`
      ) AS `t4`
    ) AS `t13`
    UNION ALL
    SELECT
      *
    FROM (
      SELECT
        *
      FROM (
        SELECT
          6 AS `digit`
      ) AS `t5`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          7 AS `digit`
      ) AS `t6`
    ) AS `t14`
  ) AS `t20`
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
      ) AS `t7`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          9 AS `digit`
      ) AS `t8`
    ) AS `t15`
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
        ) AS `t2`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            1 AS `digit`
        ) AS `t9`
      ) AS `t16`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            2 AS `digit`
        ) AS `t10`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            3 AS `digit`
        ) AS `t11`
      ) AS `t17`
    ) AS `t21`
  ) AS `t22`
), `t43` AS (
  SELECT
    `t42`.`order_id`,
    `t42`.`user_id`,
    `t42`.`ordered_at`,
    `t42`.`order_date`,
    `t42`.`net_items`,
    `t42`.`net_revenue`,
    DATE(EXTRACT(year FROM `t42`.`order_date`), EXTRACT(month FROM `t42`.`order_date`), 1) AS `order_month`
  FROM (
    SELECT
      `t36`.`order_id`,
      `t19`.`user_id`,
      `t19`.`ordered_at`,
      `t19`.`order_date`,
      `t36`.`net_items`,
      `t36`.`net_revenue`
    FROM (
      SELECT
        `t18`.`order_id`,
        SUM(CAST(NOT (
          `t18`.`status` IN ('cancelled', 'returned')
        ) AS INT64)) AS `net_items`,
        SUM(
          IF(NOT (
            `t18`.`status` IN ('cancelled', 'returned')
          ), `t18`.`sale_price`, 0.0)
        ) AS `net_revenue`
      FROM (
        SELECT
          *
        FROM `my-project`.`ecom`.`stg_order_items` AS `t0`
        WHERE
          `t0`.`status` <> 'cancelled'
      ) AS `t18`
      GROUP BY
        1
    ) AS `t36`
    INNER JOIN (
      SELECT
        `t1`.`order_id`,
        `t1`.`user_id`,
        `t1`.`order_date`,
        `t1`.`created_at` AS `ordered_at`
      FROM `my-project`.`ecom`.`stg_orders` AS `t1`
    ) AS `t19`
      ON `t36`.`order_id` = `t19`.`order_id`
  ) AS `t42`
), `t46` AS (
  SELECT
    `t44`.`user_id`,
    MIN(`t44`.`order_month`) AS `cohort_month`
  FROM `t43` AS `t44`
  GROUP BY
    1
), `t49` AS (
  SELECT
    `t47`.`cohort_month`,
    COUNT(*) AS `cohort_size`
  FROM `t46` AS `t47`
  GROUP BY
    1
)
SELECT
  `t64`.`cohort_month`,
  `t64`.`months_since_first`,
  `t64`.`cohort_size`,
  COALESCE(`t57`.`active_customers`, 0) AS `active_customers`,
  IF(
    `t64`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t57`.`active_customers`, 0), `t64`.`cohort_size`)
  ) AS `retention_rate`,
  COALESCE(`t57`.`net_revenue`, 0.0) AS `net_revenue`,
  IF(
    `t64`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      SUM(COALESCE(`t57`.`net_revenue`, 0.0)) OVER (
        PARTITION BY `t64`.`cohort_month`
        ORDER BY `t64`.`months_since_first` ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      `t64`.`cohort_size`
    )
  ) AS `cumulative_net_revenue_per_customer`
FROM (
  SELECT
    `t51`.`cohort_month`,
    `t51`.`cohort_size`,
    (
      (
        (
          EXTRACT(year FROM `t61`.`month`) * 12
        ) + EXTRACT(month FROM `t61`.`month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t51`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t51`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`
  FROM `t49` AS `t51`
  INNER JOIN (
    SELECT
      `t59`.`date` AS `month`
    FROM (
      SELECT
        DATE(TIMESTAMP_ADD(CAST(`t58`.`start` AS TIMESTAMP), INTERVAL `t58`.`offset` DAY)) AS `date`
      FROM (
        SELECT
          `t55`.`start`,
          `t55`.`last`,
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
            `t53`.`start`,
            DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t53`.`start`, DATE(1970, 1, 1), DAY) AS `last`
          FROM (
            SELECT
              MIN(`t50`.`cohort_month`) AS `start`
            FROM `t49` AS `t50`
          ) AS `t53`
        ) AS `t55`
        CROSS JOIN (
          SELECT
            `t25`.`digit` AS `d0`
          FROM `t23` AS `t25`
        ) AS `t37`
        CROSS JOIN (
          SELECT
            `t26`.`digit` AS `d1`
          FROM `t23` AS `t26`
        ) AS `t38`
        CROSS JOIN (
          SELECT
            `t27`.`digit` AS `d2`
          FROM `t23` AS `t27`
        ) AS `t39`
        CROSS JOIN (
          SELECT
            `t28`.`digit` AS `d3`
          FROM `t23` AS `t28`
        ) AS `t40`
        CROSS JOIN (
          SELECT
            `t29`.`digit` AS `d4`
          FROM `t23` AS `t29`
        ) AS `t41`
      ) AS `t58`
      WHERE
        `t58`.`offset` <= `t58`.`last`
    ) AS `t59`
    WHERE
      EXTRACT(day FROM `t59`.`date`) = 1
  ) AS `t61`
    ON `t61`.`month` >= `t51`.`cohort_month`
) AS `t64`
LEFT OUTER JOIN (
  SELECT
    `t52`.`cohort_month`,
    (
      (
        (
          EXTRACT(year FROM `t52`.`order_month`) * 12
        ) + EXTRACT(month FROM `t52`.`order_month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t52`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t52`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`,
    COUNT(DISTINCT `t52`.`user_id`) AS `active_customers`,
    SUM(`t52`.`net_revenue`) AS `net_revenue`
  FROM (
    SELECT
      `t45`.`order_id`,
      `t45`.`user_id`,
      `t45`.`ordered_at`,
      `t45`.`order_date`,
      `t45`.`net_items`,
      `t45`.`net_revenue`,
      `t45`.`order_month`,
      `t48`.`cohort_month`
    FROM `t43` AS `t45`
    INNER JOIN `t46` AS `t48`
      ON `t45`.`user_id` = `t48`.`user_id`
  ) AS `t52`
  GROUP BY
    1,
    2
) AS `t57`
  ON `t64`.`cohort_month` = `t57`.`cohort_month`
  AND `t64`.`months_since_first` = `t57`.`months_since_first`
