"""Local services the tests start (the BigQuery emulator, the GoogleSQL analyzer, Chromium): their
install scripts, a free loopback port, and stopping one by its own process."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_installer(script: Path) -> tuple[Path | None, str]:
    """Run a `.ci/install-*.sh` script: the path it prints last, or None and the reason it gave for
    installing nothing. A failing script fails the test."""
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
