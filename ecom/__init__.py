"""ecom: portable e-commerce profitability models (see README.md)."""

import signal

INTERRUPTED = 130  # the exit code of a command Ctrl-C stopped: 128 + SIGINT, as shells report it
STOPPING = (signal.SIGINT, signal.SIGTERM)  # Ctrl-C, and a scheduler's or CI runner's stop


def how_stopped(signum: int) -> tuple[str, int]:
    """A stopping signal as the first word of what a command says, and its exit code (128 + it)."""
    return ("terminated" if signum == signal.SIGTERM else "interrupted"), 128 + signum
