"""The `ecom` command (the console script) and `python -m ecom`."""

import signal
import sys
from typing import NoReturn

from ecom import INTERRUPTED


def main() -> None:
    try:
        from ecom.cli import app
    except KeyboardInterrupt:  # Ctrl-C in the second the libraries take to load, before any work
        _interrupted_outside_a_command(finished=False)
    from ecom.core.interrupts import ctrl_c_pressed, finished

    try:
        app(prog_name="ecom")
    except SystemExit as e:
        # a Ctrl-C outside a command's own watch (while typer reads the command line, or after the
        # work, as the process ends) is an exit code 130 from typer, without a word
        if e.code == INTERRUPTED and not ctrl_c_pressed():
            _interrupted_outside_a_command(finished())
        raise
    except RuntimeError as e:
        # one while a library typer loads on first use (pydantic) makes a class: Python wraps it so
        if isinstance(e.__cause__, KeyboardInterrupt):
            _interrupted_outside_a_command(finished())
        raise
    finally:
        # the command has ended and said how: a Ctrl-C while Python closes down (joining the build's
        # threads, closing DuckDB) would end the process as interrupted, without a word, after it
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def _interrupted_outside_a_command(finished: bool) -> NoReturn:
    if finished:
        print("interrupted as the command ended: its work was done, as printed above", file=sys.stderr)
    else:
        print("interrupted while starting: nothing was done", file=sys.stderr)
    raise SystemExit(INTERRUPTED) from None


if __name__ == "__main__":
    main()
