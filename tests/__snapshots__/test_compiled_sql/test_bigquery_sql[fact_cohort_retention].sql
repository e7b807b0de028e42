WITH `t27` AS (
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
      ) AS `t4`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          5 AS `digit`
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
          6 AS `digit`
      ) AS `t6`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          7 AS `digit`
      ) AS `t7`
    ) AS `t17`
  ) AS `t24`
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
      ) AS `t8`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          9 AS `digit`
      ) AS `t9`
    ) AS `t18`
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
        ) AS `t3`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            1 AS `digit`
        ) AS `t10`
      ) AS `t19`
      UNION ALL
      SELECT
        *
      FROM (
        SELECT
          *
        FROM (
          SELECT
            2 AS `digit`
        ) AS `t11`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            3 AS `digit`
        ) AS `t12`
      ) AS `t20`
    ) AS `t25`
  ) AS `t26`
), `t47` AS (
  SELECT
    `t46`.`order_id`,
    `t46`.`user_id`,
    `t46`.`ordered_at`,
    `t46`.`order_date`,
    `t46`.`net_items`,
    `t46`.`net_revenue`,
    `t46`.`net_cost`,
    DATE(EXTRACT(year FROM `t46`.`order_date`), EXTRACT(month FROM `t46`.`order_date`), 1) AS `order_month`
  FROM (
    SELECT
      `t40`.`order_id`,
      `t40`.`user_id`,
      `t40`.`ordered_at`,
      `t40`.`order_date`,
      SUM(CAST(NOT (
        `t40`.`status` IN ('cancelled', 'returned')
      ) AS INT64)) AS `net_items`,
      SUM(
        IF(NOT (
          `t40`.`status` IN ('cancelled', 'returned')
        ), `t40`.`sale_price`, 0.0)
      ) AS `net_revenue`,
      SUM(
        IF(
          NOT (
            `t40`.`status` IN ('cancelled', 'returned')
          ),
          COALESCE(`t40`.`product_cost`, 0.0),
          0.0
        )
      ) AS `net_cost`
    FROM (
      SELECT
        *
      FROM (
        SELECT
          `t21`.`order_item_id`,
          `t21`.`order_id`,
          `t22`.`user_id`,
          `t22`.`ordered_at`,
          `t21`.`order_date`,
          `t21`.`product_id`,
          `t21`.`status`,
          `t21`.`sale_price`,
          `t23`.`product_cost`
        FROM (
          SELECT
            `t0`.`order_item_id`,
            `t0`.`order_id`,
            `t0`.`order_date`,
            `t0`.`product_id`,
            `t0`.`status`,
            `t0`.`sale_price`
          FROM `my-project`.`ecom`.`stg_order_items` AS `t0`
        ) AS `t21`
        INNER JOIN (
          SELECT
            `t1`.`order_id`,
            `t1`.`user_id`,
            `t1`.`created_at` AS `ordered_at`
          FROM `my-project`.`ecom`.`stg_orders` AS `t1`
        ) AS `t22`
          ON `t21`.`order_id` = `t22`.`order_id`
        LEFT OUTER JOIN (
          SELECT
            `t2`.`product_id`,
            `t2`.`cost` AS `product_cost`
          FROM `my-project`.`ecom`.`stg_products` AS `t2`
        ) AS `t23`
          ON `t21`.`product_id` = `t23`.`product_id`
      ) AS `t29`
      WHERE
        `t29`.`status` <> 'cancelled'
    ) AS `t40`
    GROUP BY
      1,
      2,
      3,
      4
  ) AS `t46`
), `t50` AS (
  SELECT
    `t48`.`user_id`,
    MIN(`t48`.`order_month`) AS `cohort_month`
  FROM `t47` AS `t48`
  GROUP BY
    1
), `t53` AS (
  SELECT
    `t51`.`cohort_month`,
    COUNT(*) AS `cohort_size`
  FROM `t50` AS `t51`
  GROUP BY
    1
)
SELECT
  `t68`.`cohort_month`,
  `t68`.`months_since_first`,
  `t68`.`cohort_size`,
  COALESCE(`t61`.`active_customers`, 0) AS `active_customers`,
  IF(
    `t68`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(COALESCE(`t61`.`active_customers`, 0), `t68`.`cohort_size`)
  ) AS `retention_rate`,
  COALESCE(`t61`.`net_revenue`, 0.0) AS `net_revenue`,
  IF(
    `t68`.`cohort_size` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(
      SUM(COALESCE(`t61`.`net_revenue`, 0.0)) OVER (
        PARTITION BY `t68`.`cohort_month`
        ORDER BY `t68`.`months_since_first` ASC
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      ),
      `t68`.`cohort_size`
    )
  ) AS `cumulative_net_revenue_per_customer`
FROM (
  SELECT
    `t55`.`cohort_month`,
    `t55`.`cohort_size`,
    (
      (
        (
          EXTRACT(year FROM `t65`.`month`) * 12
        ) + EXTRACT(month FROM `t65`.`month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t55`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t55`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`
  FROM `t53` AS `t55`
  INNER JOIN (
    SELECT
      `t63`.`date` AS `month`
    FROM (
      SELECT
        DATE(TIMESTAMP_ADD(CAST(`t62`.`start` AS TIMESTAMP), INTERVAL `t62`.`offset` DAY)) AS `date`
      FROM (
        SELECT
          `t59`.`start`,
          `t59`.`last`,
          0 + (
            `t41`.`d0` * 1
          ) + (
            `t42`.`d1` * 10
          ) + (
            `t43`.`d2` * 100
          ) + (
            `t44`.`d3` * 1000
          ) + (
            `t45`.`d4` * 10000
          ) AS `offset`
        FROM (
          SELECT
            `t57`.`start`,
            DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t57`.`start`, DATE(1970, 1, 1), DAY) AS `last`
          FROM (
            SELECT
              MIN(`t54`.`cohort_month`) AS `start`
            FROM `t53` AS `t54`
          ) AS `t57`
        ) AS `t59`
        CROSS JOIN (
          SELECT
            `t30`.`digit` AS `d0`
          FROM `t27` AS `t30`
        ) AS `t41`
        CROSS JOIN (
          SELECT
            `t31`.`digit` AS `d1`
          FROM `t27` AS `t31`
        ) AS `t42`
        CROSS JOIN (
          SELECT
            `t32`.`digit` AS `d2`
          FROM `t27` AS `t32`
        ) AS `t43`
        CROSS JOIN (
          SELECT
            `t33`.`digit` AS `d3`
          FROM `t27` AS `t33`
        ) AS `t44`
        CROSS JOIN (
          SELECT
            `t34`.`digit` AS `d4`
          FROM `t27` AS `t34`
        ) AS `t45`
      ) AS `t62`
      WHERE
        `t62`.`offset` <= `t62`.`last`
    ) AS `t63`
    WHERE
      EXTRACT(day FROM `t63`.`date`) = 1
  ) AS `t65`
    ON `t65`.`month` >= `t55`.`cohort_month`
) AS `t68`
LEFT OUTER JOIN (
  SELECT
    `t56`.`cohort_month`,
    (
      (
        (
          EXTRACT(year FROM `t56`.`order_month`) * 12
        ) + EXTRACT(month FROM `t56`.`order_month`)
      ) - 1
    ) - (
      (
        (
          EXTRACT(year FROM `t56`.`cohort_month`) * 12
        ) + EXTRACT(month FROM `t56`.`cohort_month`)
      ) - 1
    ) AS `months_since_first`,
    COUNT(DISTINCT `t56`.`user_id`) AS `active_customers`,
    SUM(`t56`.`net_revenue`) AS `net_revenue`
  FROM (
    SELECT
      `t49`.`order_id`,
      `t49`.`user_id`,
      `t49`.`ordered_at`,
      `t49`.`order_date`,
      `t49`.`net_items`,
      `t49`.`net_revenue`,
      `t49`.`net_cost`,
      `t49`.`order_month`,
      `t52`.`cohort_month`
    FROM `t47` AS `t49`
    INNER JOIN `t50` AS `t52`
      ON `t49`.`user_id` = `t52`.`user_id`
  ) AS `t56`
  GROUP BY
    1,
    2
) AS `t61`
  ON `t68`.`cohort_month` = `t61`.`cohort_month`
  AND `t68`.`months_since_first` = `t61`.`months_since_first`
