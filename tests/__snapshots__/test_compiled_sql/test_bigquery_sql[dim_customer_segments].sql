SELECT
  `t3`.`user_id`,
  `t3`.`recency_days`,
  `t3`.`frequency`,
  `t3`.`monetary`,
  `t3`.`r_score`,
  `t3`.`f_score`,
  `t3`.`m_score`,
  `t3`.`fm_score`,
  CASE
    WHEN (
      `t3`.`r_score` >= 4
    ) AND (
      `t3`.`fm_score` >= 4
    )
    THEN 'Champions'
    WHEN (
      `t3`.`r_score` >= 4
    ) AND (
      `t3`.`fm_score` >= 2
    )
    THEN 'Potential Loyalists'
    WHEN `t3`.`r_score` >= 4
    THEN 'New Customers'
    WHEN (
      `t3`.`r_score` = 3
    ) AND (
      `t3`.`fm_score` >= 3
    )
    THEN 'Loyal Customers'
    WHEN `t3`.`r_score` = 3
    THEN 'Need Attention'
    WHEN `t3`.`fm_score` >= 3
    THEN 'At Risk'
    WHEN `t3`.`r_score` = 2
    THEN 'Hibernating'
    ELSE 'Lost'
  END AS `segment`
FROM (
  SELECT
    `t2`.`user_id`,
    `t2`.`recency_days`,
    `t2`.`frequency`,
    `t2`.`monetary`,
    `t2`.`r_score`,
    `t2`.`f_score`,
    `t2`.`m_score`,
    CAST(FLOOR(ieee_divide(`t2`.`f_score` + `t2`.`m_score` + 1, 2)) AS INT64) AS `fm_score`
  FROM (
    SELECT
      `t1`.`user_id`,
      `t1`.`days_since_last_order` AS `recency_days`,
      `t1`.`orders` AS `frequency`,
      `t1`.`lifetime_net_revenue` AS `monetary`,
      LEAST(
        5,
        IF(
          COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) <= 1,
          0,
          CAST(FLOOR(
            ieee_divide(
              (
                RANK() OVER (ORDER BY `t1`.`days_since_last_order` DESC) - 1
              ) * 5,
              COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
            )
          ) AS INT64)
        ) + 1
      ) AS `r_score`,
      LEAST(
        5,
        IF(
          COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) <= 1,
          0,
          CAST(FLOOR(
            ieee_divide(
              (
                RANK() OVER (ORDER BY `t1`.`orders` ASC) - 1
              ) * 5,
              COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
            )
          ) AS INT64)
        ) + 1
      ) AS `f_score`,
      LEAST(
        5,
        IF(
          COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) <= 1,
          0,
          CAST(FLOOR(
            ieee_divide(
              (
                RANK() OVER (ORDER BY CAST(FLOOR((
                  `t1`.`lifetime_net_revenue` * 100
                ) + 0.5) AS INT64) ASC) - 1
              ) * 5,
              COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) - 1
            )
          ) AS INT64)
        ) + 1
      ) AS `m_score`
    FROM (
      SELECT
        *
      FROM `my-project`.`ecom`.`dim_customers` AS `t0`
      WHERE
        `t0`.`is_customer`
    ) AS `t1`
  ) AS `t2`
) AS `t3`
