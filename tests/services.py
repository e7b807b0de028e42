"""Local services the tests start (the BigQuery emulator, the GoogleSQL analyzer, Chromium): their
install scripts, a free loopback port, and stopping one by its own process."""

from __future__ import annotations

import fcntl
import hashlib
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_installer(script: Path) -> tuple[Path | None, str]:
    """Run a `.ci/install-*.sh` script: the path it prints last, or None and the reason it gave for
    installing nothing. A failing script fails the test.

    pytest-xdist workers each run the script: a lock per script makes the first install and the rest
    wait, then find it installed (two concurrent `python -m venv` into one folder fail).
    """
    key = hashlib.sha256(str(script.resolve()).encode()).hexdigest()[:16]
    lock = Path(tempfile.gettempdir()) / f"ecom-{script.stem}-{key}.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.fail(f"{script.name} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.strip().splitlines()
    return (Path(lines[-1]), "") if lines else (None, done.stderr.strip())


def stop(proc: subprocess.Popen) -> None:
    """Terminate a process the tests started; kill it when it does not exit within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
