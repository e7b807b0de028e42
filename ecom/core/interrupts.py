"""Ctrl-C during one command, whatever a library makes of it; SIGTERM the same.

DuckDB turns the KeyboardInterrupt of a query it interrupts into RuntimeError('Query interrupted'),
and some of its calls drop it. `watching_ctrl_c` remembers the Ctrl-C, so that no transaction
commits after it, no file is replaced after it, no further model or data test starts, and the
command ends as interrupted, saying whether a transaction of its had committed, or (on an engine
without transactions) whether it had already replaced some tables. SIGTERM, what `timeout`, systemd,
Kubernetes and CI runners send to stop a job (a morning run that overran its slot), stops a
command the same way (it killed the process, which said nothing).
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ecom import STOPPING, how_stopped

_ctrl_c = threading.Event()
_committed = threading.Event()  # a transaction of this command committed: a later Ctrl-C finds its data in
# the tables replaced with no transaction around them (BigQuery: a job a table), by any thread
_replaced = [0]
_replacing = threading.Lock()
_ended = threading.Event()  # the command's watch ended, its outcome said: a later Ctrl-C undoes nothing
_said = threading.Event()  # the command said it was interrupted (ecom.cli): nothing more to say
_received = [signal.SIGINT]  # the last of STOPPING that arrived: the exit code is 128 + it, as shells say


def _on_ctrl_c(signum: int, frame: Any) -> None:
    _received[0] = signum
    _ctrl_c.set()
    raise KeyboardInterrupt


@contextlib.contextmanager
def watching_ctrl_c() -> Iterator[None]:
    """For one command: remember a Ctrl-C, whatever a library makes of the KeyboardInterrupt, so
    that the steps after it stop (`stop_if_ctrl_c`) and the command ends as interrupted."""
    for event in (_ctrl_c, _committed, _ended, _said):
        event.clear()
    _replaced[0] = 0
    _received[0] = signal.SIGINT
    try:
        if threading.current_thread() is not threading.main_thread():  # only the main thread owns signals
            yield
        else:
            previous = {signum: signal.signal(signum, _on_ctrl_c) for signum in STOPPING}
            previous_hook = sys.unraisablehook
            sys.unraisablehook = ours = _quiet_ctrl_c(previous_hook)
            try:
                yield
            finally:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
                if sys.unraisablehook is ours:  # not one another library set meanwhile
                    sys.unraisablehook = previous_hook
    finally:
        _ended.set()


def _quiet_ctrl_c(hook: Callable[[Any], object]) -> Callable[[Any], object]:
    """`hook`, but silent for the KeyboardInterrupt of a Ctrl-C that Python could not raise (it
    arrived in a garbage collector's callback or a __del__, and printed "Exception ignored in ..."
    with a traceback): the Ctrl-C is remembered, and the command stops at its next step."""

    def quiet(unraisable: Any) -> object:
        if unraisable.exc_type is KeyboardInterrupt and _ctrl_c.is_set():
            return None
        return hook(unraisable)

    return quiet


def ctrl_c_pressed() -> bool:
    """Whether Ctrl-C was pressed (or SIGTERM received) during this command."""
    return _ctrl_c.is_set()


def stopped_by() -> tuple[str, int]:
    """How the command was stopped, as the first word of what it says, and its exit code."""
    return how_stopped(_received[0])


@contextlib.contextmanager
def signals_held() -> Iterator[list[int]]:
    """Hold Ctrl-C and SIGTERM while the block runs (a commit must not be left in doubt); the list
    yielded records the signals that arrived, for the caller to act on once the block is done."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # only the main thread owns signals
        yield caught
        return

    def held(signum: int, frame: Any) -> None:
        _received[0] = signum
        caught.append(signum)

    previous = {signum: signal.signal(signum, held) for signum in STOPPING}
    try:
        yield caught
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def ended() -> bool:
    """Whether a command's watch ended in this process: what it did, it has said."""
    return _ended.is_set()


def mark_said() -> None:
    _said.set()


def said() -> bool:
    """Whether the command said it was interrupted (and whether its data was saved)."""
    return _said.is_set()


def mark_committed() -> None:
    _committed.set()


def committed() -> bool:
    return _committed.is_set()


def mark_replaced() -> None:
    with _replacing:
        _replaced[0] += 1


def replacements() -> int:
    """How many tables this command replaced without a transaction so far."""
    return _replaced[0]


def replaced() -> bool:
    return replacements() > 0


def unmark_replaced() -> None:
    """One replacement taken back: a job counted from before its request (a Ctrl-C inside the
    request may leave it created) was seen to end without replacing anything, failed or cancelled."""
    with _replacing:
        _replaced[0] -= 1


def reset_replaced(count: int) -> None:
    """Back to `count` replacements: those since were undone (a build's record written back as it
    was, no job left running), so that a Ctrl-C says nothing changed."""
    with _replacing:
        _replaced[0] = count


def stop_if_ctrl_c() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed during this command (before a step that would
    otherwise run on: the next model, the next data test, a commit, a file's replacement)."""
    if _ctrl_c.is_set():
        raise KeyboardInterrupt
