"""ecom: portable e-commerce profitability models (see README.md)."""

INTERRUPTED = 130  # the exit code of a command Ctrl-C stopped: 128 + SIGINT, as shells report it
