"""Whole-process measurements for the benchmarks: wall and CPU seconds and the peak RSS of a child.

Linux carries a process's peak RSS (ru_maxrss) across fork and exec: a child started by a parent
holding 800 MB reports at least 800 MB whatever it uses itself (measured: `python -c pass` started
from such a parent reported 811 MB). The benchmark parents hold generated data and ibis, so each
child is started through a small launcher process, and the launcher's own child, spawned from its
few MB, reports its true peak (10.8 MB for `python -c pass`, as GNU time's %M says).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LAUNCHER = r"""
import json, os, sys, time
start = time.perf_counter()
pid = os.posix_spawn(sys.argv[2], sys.argv[2:], os.environ)
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    json.dump({"total": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
               "rss_mb": usage.ru_maxrss / 1024, "code": os.waitstatus_to_exitcode(status)}, f)
"""


def timed(cmd: list[str]) -> dict:
    """Run `cmd` (its first item an absolute path, e.g. sys.executable) to the end: its wall and CPU
    (user + system) seconds, its own peak RSS in MB, its stdout; exit the benchmark if it fails.
    CPU time is what a shared, loaded machine distorts least."""
    with tempfile.TemporaryDirectory() as tmp:
        figures, out, err = Path(tmp) / "figures.json", Path(tmp) / "out", Path(tmp) / "err"
        with out.open("w") as stdout, err.open("w") as stderr:
            subprocess.run(
                [sys.executable, "-S", "-c", LAUNCHER, str(figures), *cmd],
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
                env={**os.environ, "COLUMNS": "200"},
                check=True,
            )
        result = json.loads(figures.read_text())
        if result.pop("code") != 0:
            # dbt writes its errors to stdout
            sys.exit(f"benchmark child {' '.join(cmd)} failed:\n{err.read_text() or out.read_text()[-3000:]}")
        return {**result, "stdout": out.read_text()}
