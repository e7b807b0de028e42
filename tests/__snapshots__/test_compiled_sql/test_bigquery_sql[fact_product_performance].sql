SELECT
  `t15`.`product_id`,
  `t15`.`name`,
  `t15`.`brand`,
  `t15`.`category`,
  `t15`.`department`,
  `t15`.`cost`,
  `t15`.`retail_price`,
  `t15`.`units_sold`,
  `t15`.`units_returned`,
  `t15`.`net_revenue`,
  `t15`.`cogs`,
  `t15`.`gross_profit`,
  IF(
    `t15`.`net_revenue` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t15`.`gross_profit`, `t15`.`net_revenue`)
  ) AS `margin_pct`,
  IF(
    (
      `t15`.`units_sold` + `t15`.`units_returned`
    ) = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t15`.`units_returned`, `t15`.`units_sold` + `t15`.`units_returned`)
  ) AS `return_rate`,
  `t15`.`revenue_rank`,
  IF(
    `t15`.`total_net_revenue` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t15`.`net_revenue`, `t15`.`total_net_revenue`)
  ) AS `revenue_share`,
  IF(
    `t15`.`total_net_revenue` = 0,
    CAST(NULL AS FLOAT64),
    ieee_divide(`t15`.`running_net_revenue`, `t15`.`total_net_revenue`)
  ) AS `cumulative_revenue_share`
FROM (
  SELECT
    `t14`.`product_id`,
    `t14`.`name`,
    `t14`.`brand`,
    `t14`.`category`,
    `t14`.`department`,
    `t14`.`cost`,
    `t14`.`retail_price`,
    `t14`.`units_sold`,
    `t14`.`units_returned`,
    `t14`.`net_revenue`,
    `t14`.`cogs`,
    `t14`.`net_revenue` - `t14`.`cogs` AS `gross_profit`,
    (
      ROW_NUMBER() OVER (
        ORDER BY CAST(FLOOR((
          `t14`.`net_revenue` * 100
        ) + 0.5) AS INT64) DESC, `t14`.`product_id` ASC
      ) - 1
    ) + 1 AS `revenue_rank`,
    SUM(`t14`.`net_revenue`) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS `total_net_revenue`,
    SUM(`t14`.`net_revenue`) OVER (
      ORDER BY CAST(FLOOR((
        `t14`.`net_revenue` * 100
      ) + 0.5) AS INT64) DESC, `t14`.`product_id` ASC
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS `running_net_revenue`
  FROM (
    SELECT
      `t3`.`product_id`,
      `t3`.`name`,
      `t3`.`brand`,
      `t3`.`category`,
      `t3`.`department`,
      `t3`.`cost`,
      `t3`.`retail_price`,
      COALESCE(`t13`.`units_sold`, 0) AS `units_sold`,
      COALESCE(`t13`.`units_returned`, 0) AS `units_returned`,
      COALESCE(`t13`.`net_revenue`, 0) AS `net_revenue`,
      COALESCE(`t13`.`cogs`, 0) AS `cogs`
    FROM `my-project`.`ecom`.`stg_products` AS `t3`
    LEFT OUTER JOIN (
      SELECT
        `t11`.`product_id`,
        COUNT(
          IF(NOT (
            `t11`.`status` IN ('cancelled', 'returned')
          ), `t11`.`order_item_id`, NULL)
        ) AS `units_sold`,
        COUNT(IF(`t11`.`status` = 'returned', `t11`.`order_item_id`, NULL)) AS `units_returned`,
        SUM(
          IF(NOT (
            `t11`.`status` IN ('cancelled', 'returned')
          ), `t11`.`sale_price`, NULL)
        ) AS `net_revenue`,
        SUM(
          IF(NOT (
            `t11`.`status` IN ('cancelled', 'returned')
          ), `t11`.`product_cost`, NULL)
        ) AS `cogs`
      FROM (
        SELECT
          *
        FROM (
          SELECT
            `t8`.`order_item_id`,
            `t8`.`order_id`,
            `t9`.`user_id`,
            `t9`.`ordered_at`,
            `t8`.`order_date`,
            `t8`.`product_id`,
            `t8`.`status`,
            `t8`.`sale_price`,
            `t7`.`product_cost`
          FROM (
            SELECT
              `t1`.`order_item_id`,
              `t1`.`order_id`,
              `t1`.`order_date`,
              `t1`.`product_id`,
              `t1`.`status`,
              `t1`.`sale_price`
            FROM `my-project`.`ecom`.`stg_order_items` AS `t1`
          ) AS `t8`
          INNER JOIN (
            SELECT
              `t2`.`order_id`,
              `t2`.`user_id`,
              `t2`.`created_at` AS `ordered_at`
            FROM `my-project`.`ecom`.`stg_orders` AS `t2`
          ) AS `t9`
            ON `t8`.`order_id` = `t9`.`order_id`
          LEFT OUTER JOIN (
            SELECT
              `t0`.`product_id`,
              `t0`.`cost` AS `product_cost`
            FROM `my-project`.`ecom`.`stg_products` AS `t0`
          ) AS `t7`
            ON `t8`.`product_id` = `t7`.`product_id`
        ) AS `t10`
        WHERE
          `t10`.`status` <> 'cancelled'
      ) AS `t11`
      GROUP BY
        1
    ) AS `t13`
      ON `t3`.`product_id` = `t13`.`product_id`
  ) AS `t14`
) AS `t15`
