"""The `ecom` command (the console script) and `python -m ecom`."""

import contextlib
import signal
import sys
from collections.abc import Iterator
from typing import NoReturn

from ecom import INTERRUPTED, STOPPING, how_stopped


def main() -> None:
    with _ctrl_c_noted() as pressed:
        try:
            from ecom.cli import app
        except BaseException as e:
            # Ctrl-C in the second the libraries take to load, before any work; an extension module
            # loading then may turn the KeyboardInterrupt into another error (pyarrow's: a TypeError)
            if isinstance(e, KeyboardInterrupt) or pressed:
                _interrupted_outside_a_command(ended=False, signum=pressed[-1] if pressed else signal.SIGINT)
            raise
    from ecom.core.interrupts import ended, said

    try:
        app(prog_name="ecom")
    except SystemExit as e:
        # a Ctrl-C outside a command's own watch (while typer reads the command line, or after the
        # work, as the process ends) is an exit code 130 from typer, without a word
        if e.code == INTERRUPTED and not said():
            _interrupted_outside_a_command(ended())
        raise
    except KeyboardInterrupt:  # while typer makes the command, before it runs (outside click's handling)
        _interrupted_outside_a_command(ended())
    except RuntimeError as e:
        # one while a library typer loads on first use (pydantic) makes a class: Python 3.11 wraps
        # it so (3.12 adds a note to the KeyboardInterrupt instead, which typer ends as above)
        if isinstance(e.__cause__, KeyboardInterrupt):
            _interrupted_outside_a_command(ended())
        raise
    finally:
        # main() ends the process, and the command has said how it ended: a Ctrl-C (or SIGTERM) while
        # Python closes down (joining the build's threads, closing DuckDB) ended it as interrupted, silently
        for signum in STOPPING:
            signal.signal(signum, signal.SIG_IGN)


@contextlib.contextmanager
def _ctrl_c_noted() -> Iterator[list[int]]:
    """Python's own Ctrl-C (a KeyboardInterrupt), remembered: what a library made of it, a Ctrl-C
    still; SIGTERM the same (it ended the process silently). Each left alone when it is not at its
    default (Ctrl-C ignored in a process started in the background)."""
    pressed: list[int] = []

    def noted(signum: int, frame: object) -> None:
        pressed.append(signum)
        raise KeyboardInterrupt

    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    ours = [signum for signum, default in defaults.items() if signal.getsignal(signum) is default]
    for signum in ours:
        signal.signal(signum, noted)
    try:
        yield pressed
    finally:
        for signum in ours:
            signal.signal(signum, defaults[signum])


def _interrupted_outside_a_command(ended: bool, signum: int = signal.SIGINT) -> NoReturn:
    word, code = how_stopped(signum)
    if ended:
        print(f"{word} as the command ended: it had finished, as printed above", file=sys.stderr)
    else:
        print(f"{word} while starting: nothing was done", file=sys.stderr)
    raise SystemExit(code) from None


if __name__ == "__main__":
    main()
