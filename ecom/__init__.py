"""ecom: portable e-commerce profitability models (see README.md)."""
