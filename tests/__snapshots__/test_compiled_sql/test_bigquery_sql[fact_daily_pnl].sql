WITH `t29` AS (
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
    ) AS `t14`
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
    ) AS `t15`
  ) AS `t23`
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
            0 AS `digit`
        ) AS `t3`
        UNION ALL
        SELECT
          *
        FROM (
          SELECT
            1 AS `digit`
        ) AS `t10`
      ) AS `t17`
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
      ) AS `t18`
    ) AS `t24`
  ) AS `t28`
)
SELECT
  `t52`.`date`,
  `t52`.`orders`,
  `t52`.`items_sold`,
  `t52`.`gross_revenue`,
  `t52`.`returned_revenue`,
  `t52`.`net_revenue`,
  `t52`.`cogs`,
  `t52`.`gross_profit`,
  IF(
    `t52`.`net_revenue` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t52`.`gross_profit`, `t52`.`net_revenue`)
  ) AS `gross_margin`,
  `t52`.`ad_spend`,
  `t52`.`gross_profit` - `t52`.`ad_spend` AS `contribution_profit`,
  IF(
    `t52`.`ad_spend` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t52`.`net_revenue`, `t52`.`ad_spend`)
  ) AS `roas`,
  IF(
    `t52`.`orders` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t52`.`net_revenue`, `t52`.`orders`)
  ) AS `aov`,
  `t52`.`customers`,
  `t52`.`new_customers`
FROM (
  SELECT
    `t51`.`date`,
    COALESCE(`t19`.`orders`, 0) AS `orders`,
    COALESCE(`t19`.`items_sold`, 0) AS `items_sold`,
    COALESCE(`t19`.`gross_revenue`, 0) AS `gross_revenue`,
    COALESCE(`t19`.`returned_revenue`, 0) AS `returned_revenue`,
    COALESCE(`t19`.`net_revenue`, 0) AS `net_revenue`,
    COALESCE(`t19`.`cogs`, 0) AS `cogs`,
    COALESCE(`t19`.`gross_profit`, 0) AS `gross_profit`,
    COALESCE(`t19`.`customers`, 0) AS `customers`,
    COALESCE(`t19`.`new_customers`, 0) AS `new_customers`,
    COALESCE(`t26`.`ad_spend`, 0) AS `ad_spend`
  FROM (
    SELECT
      DATE(TIMESTAMP_ADD(CAST(`t49`.`start` AS TIMESTAMP), INTERVAL `t49`.`offset` DAY)) AS `date`
    FROM (
      SELECT
        `t48`.`start`,
        `t48`.`last`,
        0 + (
          `t42`.`d0` * 1
        ) + (
          `t43`.`d1` * 10
        ) + (
          `t44`.`d2` * 100
        ) + (
          `t45`.`d3` * 1000
        ) + (
          `t46`.`d4` * 10000
        ) AS `offset`
      FROM (
        SELECT
          `t36`.`start`,
          DATE_DIFF(DATE(2024, 6, 30), DATE(1970, 1, 1), DAY) - DATE_DIFF(`t36`.`start`, DATE(1970, 1, 1), DAY) AS `last`
        FROM (
          SELECT
            LEAST(
              COALESCE(`t27`.`first_order_date`, `t25`.`first_spend_date`),
              COALESCE(`t25`.`first_spend_date`, `t27`.`first_order_date`)
            ) AS `start`
          FROM (
            SELECT
              MIN(`t2`.`order_date`) AS `first_order_date`
            FROM `my-project`.`ecom`.`stg_orders` AS `t2`
          ) AS `t27`
          CROSS JOIN (
            SELECT
              MIN(`t1`.`spend_date`) AS `first_spend_date`
            FROM `my-project`.`ecom`.`int_daily_marketing` AS `t1`
          ) AS `t25`
        ) AS `t36`
      ) AS `t48`
      CROSS JOIN (
        SELECT
          `t31`.`digit` AS `d0`
        FROM `t29` AS `t31`
      ) AS `t42`
      CROSS JOIN (
        SELECT
          `t32`.`digit` AS `d1`
        FROM `t29` AS `t32`
      ) AS `t43`
      CROSS JOIN (
        SELECT
          `t33`.`digit` AS `d2`
        FROM `t29` AS `t33`
      ) AS `t44`
      CROSS JOIN (
        SELECT
          `t34`.`digit` AS `d3`
        FROM `t29` AS `t34`
      ) AS `t45`
      CROSS JOIN (
        SELECT
          `t35`.`digit` AS `d4`
        FROM `t29` AS `t35`
      ) AS `t46`
    ) AS `t49`
    WHERE
      `t49`.`offset` <= `t49`.`last`
  ) AS `t51`
  LEFT OUTER JOIN (
    SELECT
      `t0`.`order_date` AS `date`,
      `t0`.`orders`,
      `t0`.`items_sold`,
      `t0`.`gross_revenue`,
      `t0`.`returned_revenue`,
      `t0`.`net_revenue`,
      `t0`.`cogs`,
      `t0`.`gross_profit`,
      `t0`.`customers`,
      `t0`.`new_customers`
    FROM `my-project`.`ecom`.`int_daily_sales` AS `t0`
  ) AS `t19`
    ON `t51`.`date` = `t19`.`date`
  LEFT OUTER JOIN (
    SELECT
      `t1`.`spend_date` AS `date`,
      SUM(`t1`.`spend`) AS `ad_spend`
    FROM `my-project`.`ecom`.`int_daily_marketing` AS `t1`
    GROUP BY
      1
  ) AS `t26`
    ON `t51`.`date` = `t26`.`date`
) AS `t52`
