"""Bad input, interrupted runs and hostile settings (issue 14): each failure prints one line saying
what is wrong, exits non-zero without a traceback, and leaves the tables and files as they were.

The database is built once per module from the `sales` fixture scenario; a test that must change it
works on a copy. Cases the user meets in a shell run the CLI in a subprocess (Ctrl-C, a full disk, a
lock held by another process); the others run it in-process (CliRunner), which reports an uncaught
exception as `result.exception`, so a traceback cannot pass unnoticed either way.

A full disk is simulated with a file-size limit (RLIMIT_FSIZE) in the subprocess, with SIGXFSZ
ignored, so a write past the limit fails with EFBIG as it would with ENOSPC: no mount needed.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import errno
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import duckdb
import ibis.expr.types as ir
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core import engine, files
from ecom.core.engine import validate_values
from ecom.core.files import FileWriteError
from ecom.core.sources import RAW_SCHEMAS, SourceContractError
from ecom.targets import duckdb as duckdb_target
from ecom.targets.duckdb import DuckDBTarget
from tests.bq_emulator import bigquery_target
from tests.conftest import FIXTURES, invoke, snapshot

runner = CliRunner()
SCENARIO = FIXTURES / "sales"
AS_OF = "as_of=2024-03-31"  # fixtures/sales/vars.yml
# The tests that need no `built` database run in a group of their own, on another worker than the
# module's (tests/conftest.py): this module is the suite's longest group.
NO_BUILD = pytest.mark.xdist_group("tests/test_robustness.py-no-build")


def one_line_error(text: str) -> str:
    """The message, asserted to be one line with no traceback."""
    assert "Traceback" not in text
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    return lines[0]


def last_line(text: str) -> str:
    """The closing message of a run that printed progress first, with no traceback anywhere."""
    assert "Traceback" not in text
    return text.strip().splitlines()[-1]


def cli(*args: str, env: dict | None = None) -> tuple[int, str]:
    """Run `ecom` in-process: (exit code, stderr)."""
    result = invoke(*args, env=env)
    return result.exit_code, result.stderr


def shell(*args: str, fsize: int | None = None, driver: str = "", cwd: Path | None = None, env=None):
    """Run `ecom` as a user would, in a subprocess; `driver` is Python run first (to arrange an
    interruption), `fsize` a file-size limit in bytes (a full disk)."""
    # The limit is set by the child itself, not by a preexec_fn: this test process may run gRPC's
    # threads (the analyzer and emulator clients), whose fork handlers can abort a child forked
    # from it to run Python code.
    limit = (
        "import resource, signal\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        f"resource.setrlimit(resource.RLIMIT_FSIZE, ({fsize}, {fsize}))\n"
        if fsize is not None
        else ""
    )
    # through main(), the console script's function: it speaks for a Ctrl-C outside a command's watch
    code = (
        limit + driver + f"\nimport sys\nfrom ecom.__main__ import main\nsys.argv = ['ecom', *{list(args)!r}]\nmain()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("robust") / "ecom.duckdb"
    for args in (["load", str(SCENARIO)], ["build", "--vars", AS_OF]):
        code, stderr = cli(*args, "--path", str(db))
        assert code == 0, stderr
    return db


@pytest.fixture
def copy(built, tmp_path) -> Path:
    db = tmp_path / "ecom.duckdb"
    shutil.copy(built, db)
    return db


def assert_refused(db: Path, *args: str, env=None, code: int = 1) -> str:
    """Run a command that must fail on `db`; the database must be unchanged. Returns the message."""
    before = snapshot(db)
    exit_code, stderr = cli(*args, "--path", str(db), env=env)
    assert exit_code == code, stderr
    assert snapshot(db) == before
    return one_line_error(stderr)


# 1. An empty orders table: load accepts it (valid data), the build stops before any model.
def test_empty_orders_stop_the_build_before_any_model(copy, tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(SCENARIO, folder)
    header = (folder / "orders.csv").read_text().splitlines()[0]
    (folder / "orders.csv").write_text(header + "\n")
    assert cli("load", str(folder), "--allow-empty", "--path", str(copy))[0] == 0
    models = {t: v for t, v in snapshot(copy).items() if t.startswith("main.")}
    message = assert_refused(copy, "build")
    assert message == (
        "error: as_of has no default on this data (the build's today; defaults to the latest order date): "
        "raw orders has no row with a created_at; give it with --vars as_of=..."
    )
    assert {t: v for t, v in snapshot(copy).items() if t.startswith("main.")} == models


# 2. Ctrl-C: before the commit nothing changes; during the commit it completes and says so.
# Ctrl-C while a model runs, raised where Python delivers it (a signal sent to the process could land
# after the model's query returned, on a loaded machine even after the build: the test would race).
INTERRUPT_IN_MODEL = """
from ecom.targets.duckdb import DuckDBTarget
materialize = DuckDBTarget.materialize
def interrupted(self, model, expr):
    if model.name == "fact_daily_pnl":
        raise KeyboardInterrupt
    return materialize(self, model, expr)
DuckDBTarget.materialize = interrupted
"""
INTERRUPT_IN_WRITE = """
from ecom.targets.duckdb import DuckDBTarget
def interrupted(self, files, description):
    raise KeyboardInterrupt
DuckDBTarget.write_raw_files = interrupted
"""
INTERRUPT_IN_COMMIT = """
import contextlib, os, signal
import ecom.targets.duckdb as d
deferred = d.signals_held
@contextlib.contextmanager
def interrupted():
    with deferred() as caught:
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while COMMIT runs
        yield caught
d.signals_held = interrupted
"""


# Ctrl-C as DuckDB makes of it: a query running when it arrives is interrupted and raises
# RuntimeError('Query interrupted'), the KeyboardInterrupt consumed (what duckdb's Python client does:
# its wait for a query checks Python's signals); a call that drops it goes on. Emulated on the main
# thread: a real query's interruption comes whenever DuckDB next checks, which made this test race.
INTERRUPT_AS_DUCKDB_DOES = """
import os, signal, time
from ecom.targets.duckdb import DuckDBTarget
materialize = DuckDBTarget.materialize
def interrupted(self, model, expr):
    if model.name == "fact_daily_pnl":
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            if "{how}" == "query":
                raise RuntimeError("Query interrupted") from None
    return materialize(self, model, expr)
DuckDBTarget.materialize = interrupted
"""


# a build that changes the data (cover_days is fact_inventory_forecast's alone: it may change)
A_CHANGING_BUILD = [
    "build",
    "-s",
    "+fact_daily_pnl",
    "-s",
    "fact_inventory_forecast",
    "--vars",
    AS_OF,
    "--vars",
    "cover_days=31",
]


@pytest.mark.parametrize("how", ["query", "dropped"])
def test_ctrl_c_that_duckdb_turns_into_an_error_or_drops_commits_nothing(copy, how):
    """A model "failed: Query interrupted" with exit 1, or (dropped) the build committed and exited
    0: a Ctrl-C is an interruption, whatever DuckDB made of it."""
    before = snapshot(copy)
    done = shell(*A_CHANGING_BUILD, "--path", str(copy), driver=INTERRUPT_AS_DUCKDB_DOES.replace("{how}", how))
    assert done.returncode == 130, done.stderr
    assert "interrupted: nothing was committed" in last_line(done.stderr)
    assert snapshot(copy) == before


# A Ctrl-C DuckDB drops in the first call of a command (opening the connection): the command used
# to run on to the end, replacing the report, running every data test.
INTERRUPT_AT_OPEN = """
import os, signal, time
from ecom.targets.duckdb import DuckDBTarget
apply_settings = DuckDBTarget._apply_settings
def interrupted(self):
    try:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(5)
    except KeyboardInterrupt:
        pass  # dropped
    apply_settings(self)
DuckDBTarget._apply_settings = interrupted
"""


@pytest.mark.parametrize("command", ["report", "test"])
def test_a_dropped_ctrl_c_stops_before_the_next_step(built, tmp_path, command):
    out = tmp_path / "report.html"
    out.write_text("yesterday's report")
    args = ["report", "--out", str(out)] if command == "report" else ["test"]
    done = shell(*args, "--path", str(built), driver=INTERRUPT_AT_OPEN)
    assert done.returncode == 130, done.stderr
    assert "interrupted: nothing was committed" in last_line(done.stderr)
    assert out.read_text() == "yesterday's report"
    assert " passed" not in done.stdout and "PASS" not in done.stdout  # no data test ran


@NO_BUILD
@pytest.mark.parametrize(
    "module",
    [
        "ibis",  # while Python loads the libraries (about a second): a KeyboardInterrupt traceback
        "pydantic",  # as typer reads `ecom ls`'s options (it loads pydantic then): exit 130, no word
    ],
)
def test_ctrl_c_while_the_command_starts_is_one_line(module):
    driver = textwrap.dedent(
        f"""
        import sys
        class CtrlC:  # the key pressed as {module} is imported
            def find_spec(self, name, path=None, target=None):
                if name == "{module}":
                    raise KeyboardInterrupt
        sys.meta_path.insert(0, CtrlC())
        from ecom.__main__ import main
        sys.argv = ["ecom", "ls"]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)
    assert (done.returncode, one_line_error(done.stderr)) == (130, "interrupted while starting: nothing was done")
    assert done.stdout == ""  # no model listed


@NO_BUILD
def test_sigterm_while_the_libraries_load_is_one_line():
    """It ended the process with no word (exit 143 from the shell alone)."""
    driver = textwrap.dedent(
        """
        import os, signal, sys, time
        class Stop:  # a scheduler's SIGTERM as ibis loads
            def find_spec(self, name, path=None, target=None):
                if name == "ibis":
                    os.kill(os.getpid(), signal.SIGTERM)
                    time.sleep(5)
        sys.meta_path.insert(0, Stop())
        from ecom.__main__ import main
        sys.argv = ["ecom", "ls"]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)
    assert (done.returncode, one_line_error(done.stderr)) == (143, "terminated while starting: nothing was done")


@NO_BUILD
def test_ctrl_c_that_a_loading_library_turns_into_another_error_is_one_line():
    """pyarrow's Cython modules, loading as `ecom` starts, turned a Ctrl-C into `TypeError: expected a
    message argument`: a traceback (seen once in ~300 Ctrl-C's on a busy machine)."""
    driver = textwrap.dedent(
        """
        import os, signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a terminal's foreground process
        class CtrlC:  # the key pressed as ibis loads, inside a module that makes it another error
            def find_spec(self, name, path=None, target=None):
                if name == "ibis":
                    try:
                        os.kill(os.getpid(), signal.SIGINT)
                        time.sleep(5)
                    except KeyboardInterrupt:
                        raise TypeError("expected a message argument") from None
        sys.meta_path.insert(0, CtrlC())
        from ecom.__main__ import main
        sys.argv = ["ecom", "ls"]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)
    assert (done.returncode, one_line_error(done.stderr)) == (130, "interrupted while starting: nothing was done")


@NO_BUILD
def test_ctrl_c_while_typer_makes_the_command_is_one_line():
    """A Ctrl-C while typer builds the click command, before click's own handling: a traceback."""
    driver = textwrap.dedent(
        """
        import os, signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import typer.main
        def slow(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        typer.main.get_group = slow
        from ecom.__main__ import main
        sys.argv = ["ecom", "ls"]
        main()
        """
    )
    done = subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)
    assert (done.returncode, one_line_error(done.stderr)) == (130, "interrupted while starting: nothing was done")


def _main_with(body: str) -> subprocess.CompletedProcess:
    """`ecom`'s main() run in a child with its app replaced by one command, `go`, doing `body`.

    The child takes Ctrl-C as a terminal's foreground process does: a suite started in the
    background by a shell without job control (`pytest &` in a script) passes SIGINT on ignored,
    and Python then raises no KeyboardInterrupt at all."""
    driver = textwrap.dedent(
        """
        import os, signal, sys, time, typer
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import ecom.cli
        from ecom.cli import friendly_errors
        fake = typer.Typer()
        @fake.command()
        def go():
        {body}
        @fake.command()  # with two commands typer reads `go` as a command's name, as ecom's
        def other():
            pass
        ecom.cli.app = fake
        from ecom.__main__ import main
        sys.argv = ["ecom", "go"]
        main()
        """
    ).format(body=textwrap.indent(textwrap.dedent(body), " " * 4))
    return subprocess.run([sys.executable, "-c", driver], capture_output=True, text=True, timeout=60)


CTRL_C = "os.kill(os.getpid(), signal.SIGINT); time.sleep(5)"  # the key pressed: a SIGINT to itself


@NO_BUILD
@pytest.mark.parametrize(
    ("body", "said"),
    [
        # typer's own handling, as of a Ctrl-C while it reads the command line (before the command's
        # watch): exit code 130 and no word
        (CTRL_C, "interrupted while starting: nothing was done"),
        # one while a class is made (pydantic, loaded by typer on first use) was a RuntimeError traceback
        (
            f"""
            class Field:
                def __set_name__(self, owner, name):
                    {CTRL_C}
            class Model:
                field = Field()
            """,
            "interrupted while starting: nothing was done",
        ),
        # after the command's work ended, as the process ends
        (f"with friendly_errors():\n    pass\n{CTRL_C}", "interrupted as the command ended: "
         "it had finished, as printed above"),
        # inside the command: its own line, once
        (f"with friendly_errors():\n    {CTRL_C}", "interrupted: nothing was committed, existing "
         "tables and files are as they were"),
        # in a garbage collector's callback (a __del__ here): Python cannot raise it there and printed
        # "Exception ignored in ..." with a traceback; the command stops at its end all the same
        (
            f"""
            class Garbage:
                def __del__(self):
                    {CTRL_C}
            with friendly_errors():
                Garbage()
            """,
            "interrupted: nothing was committed, existing tables and files are as they were",
        ),
    ],
    ids=["before the watch", "a class made", "after the work", "during the work", "in a callback"],
)  # fmt: skip
def test_ctrl_c_outside_a_commands_work_is_one_line_and_exit_130(body, said):
    done = _main_with(body)
    assert (done.returncode, one_line_error(done.stderr)) == (130, said)


@NO_BUILD
@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_ctrl_c_while_python_closes_down_after_the_command_changes_nothing(signum):
    """Once the command has ended, Ctrl-C or SIGTERM is ignored: it ended the process as interrupted,
    silently, after a build that had printed its tables (Python joins the build's threads as it exits)."""
    done = _main_with(f"import atexit\natexit.register(os.kill, os.getpid(), signal.{signum})\nprint('built')")
    assert (done.returncode, done.stdout, done.stderr) == (0, "built\n", "")


def test_ctrl_c_before_the_commit_changes_nothing(copy):
    before = snapshot(copy)
    done = shell(*A_CHANGING_BUILD, "--path", str(copy), driver=INTERRUPT_IN_MODEL)
    assert done.returncode == 130
    assert "nothing was committed" in last_line(done.stderr)
    assert snapshot(copy) == before


@pytest.mark.parametrize("command", ["build", "load", "load into a new file"])
def test_ctrl_c_during_the_commit_says_the_data_is_saved(copy, command):
    # cover_days is fact_inventory_forecast's alone: a build of it may change it
    build = ["build", "-s", "stg_orders", "-s", "fact_inventory_forecast", "--vars", AS_OF, "--vars", "cover_days=31"]
    args = build if command == "build" else ["load", str(SCENARIO)]
    path = copy.with_name("new.duckdb") if command == "load into a new file" else copy
    done = shell(*args, "--path", str(path), driver=INTERRUPT_IN_COMMIT)
    assert done.returncode == 130
    assert "the new data is saved" in last_line(done.stderr)
    if path != copy:  # a file the command created is kept once committed
        con = duckdb.connect(str(path), read_only=True)
        assert con.execute("SELECT count(*) FROM raw.orders").fetchone()[0] > 0
        con.close()
    if command == "build":  # the committed build recorded its variables
        con = duckdb.connect(str(copy), read_only=True)
        value = con.execute("SELECT value FROM main._ecom_vars WHERE name = 'cover_days'").fetchone()
        con.close()
        assert value == ("31",)


@pytest.mark.parametrize("during", ["a model", "the commit"])
def test_sigterm_stops_a_build_as_ctrl_c_does_with_exit_143(copy, during):
    """SIGTERM, what `timeout`, systemd or a CI runner sends to stop a job that overran, killed the
    process without a word (exit 143 from the shell alone); it stops the build as Ctrl-C does."""
    before = snapshot(copy)
    driver = INTERRUPT_AS_DUCKDB_DOES.replace("{how}", "query") if during == "a model" else INTERRUPT_IN_COMMIT
    done = shell(*A_CHANGING_BUILD, "--path", str(copy), driver=driver.replace("SIGINT", "SIGTERM"))
    assert done.returncode == 143, done.stderr  # 128 + SIGTERM, as shells report it
    if during == "a model":
        assert last_line(done.stderr) == "terminated: nothing was committed, existing tables and files are as they were"
        assert snapshot(copy) == before
    else:
        assert last_line(done.stderr).startswith("terminated after the commit completed: the new data is saved")
        assert snapshot(copy) != before


# 3. A selector that selects nothing.
@pytest.mark.parametrize("selector", ["", " , "])
def test_empty_selector_is_an_error(built, selector):
    assert "names no model" in assert_refused(built, "build", "--select", selector)


def first_date() -> dt.date:
    """The fixture's first order or spend date, read from its CSVs: where the date spine starts."""
    dates = []
    for table, column in (("orders", "created_at"), ("marketing_spend", "date")):
        with open(SCENARIO / f"{table}.csv", newline="") as f:
            dates += [dt.date.fromisoformat(r[column][:10]) for r in csv.DictReader(f) if r[column]]
    return min(dates)


# 4. An as_of the data cannot support: the date spine of 100,000 days from the first date.
def test_as_of_beyond_the_date_spine_is_refused(built):
    first = first_date()
    message = assert_refused(built, "build", "--vars", "as_of=2999-01-01")
    assert f"from {first} to {first + dt.timedelta(days=99_999)}" in message
    before = (first - dt.timedelta(days=1)).isoformat()
    assert f"from {first}" in assert_refused(built, "build", "--vars", f"as_of={before}")


# 5. Files are replaced whole or not at all, on a full disk too.
def test_full_disk_report_keeps_the_old_file(built, tmp_path):
    report = tmp_path / "report.html"
    report.write_text("the old report")
    done = shell("report", "--out", str(report), "--path", str(built), fsize=4096)
    assert done.returncode == 1
    assert "File too large" in one_line_error(done.stderr)
    assert report.read_text() == "the old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@NO_BUILD
def test_full_disk_compile_keeps_the_old_files(tmp_path):
    out = tmp_path / "compiled"
    old = out / "duckdb" / "fact_daily_pnl.sql"
    old.parent.mkdir(parents=True)
    old.write_text("-- old")
    done = shell("compile", "--vars", AS_OF, "--out", str(out), fsize=1024)
    assert done.returncode == 1
    assert "File too large" in one_line_error(done.stderr)
    assert old.read_text() == "-- old"
    assert not [p for p in old.parent.iterdir() if p.name.endswith(".tmp")]


@NO_BUILD
def test_a_rename_failing_after_others_says_which_were_replaced(tmp_path, monkeypatch):
    """Every path is checked first, so this is seldom; the message said nothing was replaced."""
    renamed = []

    def replace(src, dst):
        if renamed:
            raise OSError(28, "No space left on device")
        renamed.append(dst)
        os.rename(src, dst)

    monkeypatch.setattr(files.os, "replace", replace)
    with pytest.raises(FileWriteError) as e:
        files.atomic_write_all({tmp_path / "a.sql": "a", tmp_path / "b.sql": "b"})
    assert (
        str(e.value)
        == f"cannot write {tmp_path / 'b.sql'}: No space left on device; the files before it (1) were replaced"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.sql"]


@NO_BUILD
def test_a_symbolic_link_is_written_through_and_stays_a_link(tmp_path):
    """`--out site/report.html` linked to a served folder's page: renamed over, the link became a
    file of its own and the served page was never updated (the command said `Wrote`, exit 0)."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "report.html").write_text("yesterday")
    link = tmp_path / "report.html"
    link.symlink_to(served / "report.html")
    files.atomic_write_all({link: "today", tmp_path / "other.sql": "other"})
    assert link.is_symlink() and os.readlink(link) == str(served / "report.html")
    assert (served / "report.html").read_text() == "today"
    assert sorted(p.name for p in served.iterdir()) == ["report.html"]  # no temporary file left
    assert (tmp_path / "other.sql").read_text() == "other"


@NO_BUILD
def test_a_link_into_no_folder_is_written_nowhere(tmp_path):
    """`--out site/report.html` linked into a share not mounted: the share's folders were made on the
    local disk and the page written there, `Wrote`, exit 0; a plain write through the link fails."""
    link = tmp_path / "site" / "report.html"
    link.parent.mkdir()
    link.symlink_to(tmp_path / "share" / "report.html")
    with pytest.raises(FileWriteError) as e:
        files.atomic_write_all({tmp_path / "out" / "a.sql": "a", link: "report"})
    assert str(e.value) == f"cannot write {link}: No such file or directory; nothing was replaced"
    assert not (tmp_path / "share").exists() and not (tmp_path / "out" / "a.sql").exists()


@NO_BUILD
def test_a_loop_of_symbolic_links_is_refused_and_kept(tmp_path):
    """A link in a loop (a -> b -> a) given as `--out`, `--path` or one of `--parquet`'s files was
    replaced by the file written (exit 0), where a plain write fails ("Too many levels of symbolic
    links"): os.path.realpath returns a link of the loop instead of failing."""
    loop, other = tmp_path / "a", tmp_path / "b"
    loop.symlink_to(other)
    other.symlink_to(loop)
    with pytest.raises(FileWriteError) as e:
        files.atomic_write_all({tmp_path / "a.sql": "a", loop: "report"})
    assert str(e.value) == (
        f"cannot write {loop}: its path runs into a loop of symbolic links: point the link elsewhere, or remove "
        "it; nothing was replaced"
    )
    with pytest.raises(FileWriteError, match=f"^cannot write {loop / 'x.sql'}: its path runs into a loop"):
        files.atomic_write_all({loop / "x.sql": "x"})  # a folder of the path: the same
    for args in (["generate", "--scale", "0.001"], ["load", str(SCENARIO)], ["build"]):
        code, stderr = cli(*args, "--path", str(loop))
        assert (code, one_line_error(stderr)) == (
            1,
            f"error: {loop} is a loop of symbolic links: point the link at a DuckDB database file, or remove it",
        )
    code, stderr = cli("load", str(loop), "--path", str(tmp_path / "new.duckdb"))  # the export's folder
    assert (code, one_line_error(stderr)) == (
        1,
        f"error: {loop} is a loop of symbolic links: point it at the export's folder, or give another",
    )
    code, stderr = cli("generate", "--scale", "0.001", "--no-duckdb", "--parquet", str(loop))
    assert (code, one_line_error(stderr)) == (
        1,
        f"error: --parquet {loop} is a loop of symbolic links: point it at a folder, or remove it",
    )
    (folder := tmp_path / "parquet").mkdir()
    (folder / "orders.parquet").symlink_to(folder / "x")
    (folder / "x").symlink_to(folder / "orders.parquet")
    code, stderr = cli("generate", "--scale", "0.001", "--no-duckdb", "--replace", "--parquet", str(folder))
    assert (code, one_line_error(stderr)) == (
        1,
        f"error: --parquet {folder}: orders.parquet is a loop of symbolic links: point it at a file, or remove it",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "parquet"]  # a.sql neither
    assert loop.is_symlink() and other.is_symlink() and (folder / "orders.parquet").is_symlink()
    assert sorted(p.name for p in folder.iterdir()) == ["orders.parquet", "x"]


@NO_BUILD
def test_a_pipe_or_device_is_not_replaced_by_a_file(tmp_path):
    """`ecom report --out /dev/full`, run as root, replaced the device with the report."""
    pipe = tmp_path / "report.html"
    os.mkfifo(pipe)
    link = tmp_path / "latest.html"
    link.symlink_to(pipe)
    for given in (pipe, link):
        with pytest.raises(FileWriteError) as e:
            files.atomic_write_all({tmp_path / "a.sql": "a", given: "report"})
        assert str(e.value) == (f"{given} is not a regular file (a device, a pipe): give the name of a file to write")
    assert stat.S_ISFIFO(os.stat(pipe).st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.html", "report.html"]  # a.sql neither


@NO_BUILD
def test_a_failed_generate_or_load_into_a_new_file_leaves_no_file(tmp_path):
    """Refused or interrupted before its commit, a first generate or load left an empty database."""
    new = tmp_path / "new.duckdb"
    for args, driver, code in (
        (["load", str(SCENARIO)], "", 1),  # a full disk
        (["generate", "--scale", "0.001"], INTERRUPT_IN_WRITE, 130),  # Ctrl-C
    ):
        done = shell(*args, "--path", str(new), fsize=1024 if not driver else None, driver=driver)
        assert done.returncode == code and "Traceback" not in done.stderr, done.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == [], done.stderr


def test_full_disk_generate_and_load_change_nothing(copy, tmp_path):
    before = snapshot(copy)
    for args in (["generate", "--scale", "0.001", "--replace"], ["load", str(SCENARIO)]):  # over a loaded export
        done = shell(*args, "--path", str(copy), fsize=1024)  # DuckDB's write-ahead log cannot grow
        assert done.returncode == 1, done.stderr
        one_line_error(done.stderr)
        assert snapshot(copy) == before
    # generate's files (in its scratch folder, and the --parquet ones) fit under 4 MB; DuckDB's
    # writes of them do not: the Parquet files, complete, must not replace the old ones either
    parquet = tmp_path / "parquet"
    parquet.mkdir()
    (parquet / "orders.parquet").write_text("old")
    args = ["--scale", "0.001", "--replace", "--path", str(copy), "--parquet", str(parquet)]
    done = shell("generate", *args, fsize=4 * 2**20)
    assert done.returncode == 1, done.stderr
    assert "nothing was changed" in one_line_error(done.stderr)
    assert snapshot(copy) == before
    assert not list(copy.parent.glob(f".{copy.name}.ecom-*"))
    assert [p.name for p in parquet.iterdir()] == ["orders.parquet"]
    assert (parquet / "orders.parquet").read_text() == "old"
    args = ["--scale", "0.001", "--replace", "--no-duckdb", "--parquet", str(parquet)]  # "old" is no generated file
    done = shell("generate", *args, fsize=64 * 1024)
    assert done.returncode == 1
    assert "nothing was replaced" in one_line_error(done.stderr)
    assert [p.name for p in parquet.iterdir()] == ["orders.parquet"]
    assert (parquet / "orders.parquet").read_text() == "old"


# 6. --path onto a file that is not a database; file names that clash with schema names.
@NO_BUILD
def test_load_refuses_a_file_that_is_not_a_database(tmp_path):
    victim = tmp_path / "victim.csv"
    victim.write_text("a,b\n1,2\n")
    code, stderr = cli("load", str(SCENARIO), "--path", str(victim))
    assert code == 1
    assert "is not a DuckDB database" in one_line_error(stderr)
    assert victim.read_text() == "a,b\n1,2\n"


@NO_BUILD
@pytest.mark.parametrize(
    "args", [["load", str(SCENARIO)], ["generate", "--scale", "0.001"], ["run", "--load", str(SCENARIO)]]
)
def test_a_path_below_a_file_is_one_line(tmp_path, args):
    """Making the database's folder raised FileExistsError, then removing the file it never made
    NotADirectoryError: a traceback."""
    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    db = blocker / "ecom.duckdb"
    code, stderr = cli(*args, "--path", str(db))
    assert code == 1
    assert one_line_error(stderr) == f"error: cannot make {db}: {blocker} is a file, not a folder; give another --path"
    assert [p.name for p in tmp_path.iterdir()] == ["afile"]
    assert blocker.read_text() == "mine"


@NO_BUILD
@pytest.mark.parametrize("name", ["raw.duckdb", "main.duckdb"])
def test_any_file_name_works(tmp_path, name):
    db = tmp_path / name
    assert cli("load", str(SCENARIO), "--path", str(db))[0] == 0
    assert cli("build", "--select", "+fact_daily_pnl", "--vars", AS_OF, "--path", str(db))[0] == 0
    days = (dt.date(2024, 3, 31) - first_date()).days + 1  # every date of the spine, both ends
    assert snapshot(db)["main.fact_daily_pnl"][0] == days


# 7. The scratch folder a killed `ecom generate` left beside the database is removed by the next
# writing command on that database; another database's folder is left alone.
NOT_UTF8 = os.fsdecode(b"caf\xe9")  # a name made on a Latin-1 system: Python keeps the byte as a surrogate


@pytest.mark.parametrize("command", [["build"], ["runs"], ["freshness"], ["load", str(SCENARIO)]])
def test_a_database_name_that_is_not_utf8_is_one_line(copy, command):
    """DuckDB takes its file's name as UTF-8: every command was a UnicodeEncodeError traceback."""
    db = copy.with_name(f"{NOT_UTF8}.duckdb")
    copy.rename(db)
    before = db.read_bytes()
    code, stderr = cli(*command, "--path", str(db))
    assert code == 1
    assert one_line_error(stderr) == (
        f"error: cannot use {copy.parent}/caf\\xe9.duckdb: its name is not UTF-8, which DuckDB needs: rename it "
        "(or the folder that is not) or give another --path"
    )
    assert db.read_bytes() == before


def test_a_parquet_folder_name_that_is_not_utf8_is_one_line_and_not_made(copy, tmp_path):
    """Arrow takes UTF-8 names only: a traceback, after the folder was made."""
    folder = tmp_path / NOT_UTF8
    said = assert_refused(copy, "generate", "--scale", "0.01", "--parquet", str(folder), "--replace")
    assert said == (
        f"error: cannot use {tmp_path}/caf\\xe9: its name is not UTF-8, which Parquet files need: "
        "give another --parquet"
    )
    assert not folder.exists()


def test_leftover_scratch_folders_are_removed(copy):
    mine = copy.parent / f".{copy.name}.ecom-generate-killed"
    theirs = copy.parent / ".other.duckdb.ecom-generate-running"
    for folder in (mine, theirs):
        folder.mkdir()
        (folder / "events.parquet").write_bytes(b"partial")
    assert cli("build", "--select", "stg_orders", "--vars", AS_OF, "--path", str(copy))[0] == 0
    assert not mine.exists()
    assert (theirs / "events.parquet").read_bytes() == b"partial"


# 10. Values the models cannot use are listed with a count each, at load and at build.
def test_load_lists_unusable_values_with_counts(copy, tmp_path):
    folder = tmp_path / "export"
    shutil.copytree(SCENARIO, folder)
    items = (folder / "order_items.csv").read_text().splitlines()
    header = items[0].split(",")
    price = header.index("sale_price")
    created = header.index("created_at")
    rows = [line.split(",") for line in items[1:]]
    rows[0][price] = "-inf"
    rows[1][price] = "inf"
    rows[5][price] = "-1e9"  # the first amount refused either way: 999999999.99 passes (rows[6])
    rows[6][price] = "999999999.99"
    rows[2][created] = "0001-01-01 00:00:00"
    rows.append(list(rows[3]))  # a duplicate id
    rows[4][0] = ""  # a NULL id
    (folder / "order_items.csv").write_text("\n".join([items[0], *(",".join(r) for r in rows)]) + "\n")
    before = snapshot(copy)
    code, stderr = cli("load", str(folder), "--path", str(copy))
    assert code == 1
    assert snapshot(copy) == before
    text = " ".join(stderr.split())
    assert (
        "order_items.sale_price: expected amounts strictly between -1,000,000,000 and 1,000,000,000, found 3 rows"
        in text
    )
    # \b: "found 1 rows" holds "found 1 row"
    assert re.search(r"order_items\.created_at: expected years 1900 to 2199, found 1 row\b", text)
    assert "order_items.id: expected a unique key, found 1 row repeating another row's key" in text
    assert "order_items.id: expected a key that is never NULL, found 1 row with a NULL" in text
    assert "Traceback" not in stderr


def test_build_checks_the_values_of_the_sources(copy, monkeypatch):
    con = duckdb.connect(str(copy))
    con.execute("UPDATE raw.orders SET created_at = TIMESTAMPTZ '9999-01-01 00:00:00+00' WHERE order_id = 1")
    con.execute("INSERT INTO raw.products SELECT * FROM raw.products ORDER BY id LIMIT 2")  # two repeated ids
    con.close()
    before = snapshot(copy)
    code, stderr = cli("build", "--vars", AS_OF, "--path", str(copy))
    assert code == 1
    text = " ".join(stderr.split())
    late = re.search(r"orders\.created_at: expected years 1900 to 2199, found 1 row\b", text)  # not "1 rows"
    repeated = "products.id: expected a unique key, found 2 rows repeating another row's key"
    assert late and repeated in text and late.start() < text.index(repeated)  # the contract's order
    assert snapshot(copy) == before
    # every table's counts come back in one query (one job on BigQuery)
    queries, real = [], ir.Table.to_pyarrow
    monkeypatch.setattr(ir.Table, "to_pyarrow", lambda self, *a, **k: queries.append(self) or real(self, *a, **k))
    target = DuckDBTarget(copy, read_only=True)
    with pytest.raises(SourceContractError):
        validate_values(target, RAW_SCHEMAS)
    target.close()
    assert len(queries) == 1


def test_order_items_of_no_raw_order_are_warned_of_in_the_values_query(copy, monkeypatch):
    """stg_order_items drops items whose order is not in raw orders (the contract's one repair), so
    no data test reported an export that lost them: their revenue was gone without a word."""
    tamper(
        copy,
        "INSERT INTO raw.order_items BY NAME SELECT 99998 AS id, 999999 AS order_id, 1 AS product_id, "
        "TIMESTAMPTZ '2024-03-10 12:00:00+00' AS created_at, 100.0 AS sale_price",
        "INSERT INTO raw.order_items BY NAME SELECT 99999 AS id, 1 AS product_id, "
        "TIMESTAMPTZ '2024-03-10 12:00:00+00' AS created_at, 50.0 AS sale_price",  # no order_id at all
    )
    warning = (
        "warning: order_items: 2 rows with no order among the raw orders (order_id NULL or absent): "
        "stg_order_items leaves such items out, so no model counts their revenue; check the export"
    )
    code, stderr = cli("build", "--vars", AS_OF, "--path", str(copy))
    assert code == 0, stderr
    assert warning in [" ".join(line.split()) for line in stderr.splitlines()]
    # counted in the values' one query (one job on BigQuery), beside the problems
    queries, real = [], ir.Table.to_pyarrow
    monkeypatch.setattr(ir.Table, "to_pyarrow", lambda self, *a, **k: queries.append(self) or real(self, *a, **k))
    target = DuckDBTarget(copy, read_only=True)
    assert validate_values(target, RAW_SCHEMAS) == [warning.removeprefix("warning: ")]
    assert validate_values(target, ["order_items"]) == []  # without the orders, nothing to tell
    target.close()
    assert len(queries) == 2


# The one-line errors.
@pytest.mark.parametrize(
    "args",
    [
        ["build", "--vars", "as_of=2024-13-01"],
        ["build", "--vars", "as_of=2024-02-30"],
        ["build", "--vars", "{as_of: 2024-13-01}"],
        ["build", "--vars", f"cover_days={2**63 - 1}"],
        ["report", "--out", "."],
        ["compile", "--out", "/dev/null/x"],
    ],
)
def test_bad_options_are_one_line(built, args):
    assert_refused(built, *args)


TOO_LONG = "x" * 300  # a file name longer than the 255 bytes of Linux's file systems


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--out", f"{TOO_LONG}.html"],
        ["docs", "--out", f"{TOO_LONG}.html"],
        ["compile", "--out", TOO_LONG],
        ["load", TOO_LONG],
        ["generate", "--scale", "0.01", "--parquet", TOO_LONG, "--replace"],
    ],
    ids=["report", "docs", "compile", "load", "generate"],
)
def test_a_file_name_too_long_is_one_line(built, args):
    # each was an OSError traceback from the first stat() of the path
    said = assert_refused(built, *args)
    assert said.startswith(f"error: cannot use {TOO_LONG}") and said.endswith(
        ": File name too long: give a shorter name"
    )


@NO_BUILD
@pytest.mark.parametrize(
    "value, expected",
    [("", "is set but empty"), ("/dev/null", "not a regular file"), (".", "is a folder"), ("x", "not a DuckDB")],
)
def test_bad_duckdb_path_setting(tmp_path, value, expected):
    (tmp_path / "x").write_text("not a database")
    value = value if value in ("", "/dev/null") else str(tmp_path / value)
    code, stderr = cli("build", env={"ECOM_DUCKDB_PATH": value})
    assert code == 1
    assert expected in one_line_error(stderr)
    assert (tmp_path / "x").read_text() == "not a database"


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "-1"],
        ["--scale", "nan"],
        ["--scale", "inf"],
        ["--scale", "0"],
        ["--end-date", "2018-12-31"],
        ["--end-date", "2300-01-01"],
    ],
)
def test_generate_refuses_what_it_cannot_honour(copy, args):
    assert_refused(copy, "generate", *args)


def test_a_refused_generate_prints_its_error_alone(copy):
    """The progress bar, stopped on a stderr that is no terminal, printed an empty line before it."""
    code, stderr = cli("generate", "--scale", "0", "--path", str(copy))
    assert (code, stderr) == (1, "error: --scale must be a positive number (1 = 100,000 users), not 0.0\n")


def test_generate_parquet_onto_a_file(copy, tmp_path):
    target = tmp_path / "data.parquet"
    target.write_text("mine")
    message = assert_refused(copy, "generate", "--scale", "0.001", "--parquet", str(target))
    assert "is a file" in message
    assert target.read_text() == "mine"


def test_generate_parquet_with_a_folder_in_the_way_writes_nothing(copy, tmp_path):
    """The folder was found only when the files were renamed, after the database's commit: the
    raw tables and some Parquet files replaced, and the message said nothing was."""
    folder = tmp_path / "parquet"
    (folder / "users.parquet").mkdir(parents=True)
    (folder / "orders.parquet").write_text("old")
    message = assert_refused(copy, "generate", "--scale", "0.001", "--parquet", str(folder))
    assert message == f"error: --parquet {folder}: users.parquet is a folder: remove it, or give another"
    assert sorted(p.name for p in folder.iterdir()) == ["orders.parquet", "users.parquet"]
    assert (folder / "orders.parquet").read_text() == "old"


def test_generate_parquet_onto_a_pipe_writes_nothing(copy, tmp_path):
    folder = tmp_path / "parquet"
    folder.mkdir()
    os.mkfifo(folder / "events.parquet")
    # found before generate reads the files there to see which it wrote (a pipe would block that read)
    message = assert_refused(copy, "generate", "--scale", "0.001", "--parquet", str(folder))
    assert message == (
        f"error: --parquet {folder}: events.parquet is not a regular file (a device, a pipe): give another"
    )
    assert [p.name for p in folder.iterdir()] == ["events.parquet"]
    assert stat.S_ISFIFO(os.stat(folder / "events.parquet").st_mode)


@NO_BUILD
def test_generate_parquet_writes_through_a_symbolic_link(tmp_path):
    """orders.parquet linked to another folder's file (one another tool reads): renamed over, the
    link became a file of its own and the file it named was never updated."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "orders-latest.parquet").write_text("old")
    folder = tmp_path / "parquet"
    folder.mkdir()
    (folder / "orders.parquet").symlink_to(shared / "orders-latest.parquet")
    code, stderr = cli("generate", "--scale", "0.001", "--no-duckdb", "--replace", "--parquet", str(folder))
    assert code == 0, stderr
    assert os.readlink(folder / "orders.parquet") == str(shared / "orders-latest.parquet")
    orders = pq.read_table(shared / "orders-latest.parquet")
    assert orders.num_rows > 0 and orders.column_names == list(RAW_SCHEMAS["orders"])
    assert [p.name for p in shared.iterdir()] == ["orders-latest.parquet"]  # no temporary file left
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.parquet" for t in RAW_SCHEMAS)


@NO_BUILD
def test_generate_parquet_through_a_link_into_no_folder_makes_nothing(tmp_path):
    """orders.parquet linked into a share not mounted: the folders were made on the local disk and
    the data written there (exit 0), as no plain write through the link would have done."""
    folder = tmp_path / "parquet"
    folder.mkdir()
    (folder / "orders.parquet").symlink_to(tmp_path / "share" / "orders.parquet")
    code, stderr = cli("generate", "--scale", "0.001", "--no-duckdb", "--replace", "--parquet", str(folder))
    assert code == 1
    assert one_line_error(stderr) == (
        f"error: --parquet {folder}: orders.parquet links into {tmp_path / 'share'}, which is not a folder: "
        "mount or make it, or remove the link"
    )
    assert not (tmp_path / "share").exists() and [p.name for p in folder.iterdir()] == ["orders.parquet"]


@NO_BUILD
def test_a_parquet_file_that_cannot_be_opened_leaves_no_temporary_file(tmp_path, monkeypatch):
    """The sink opens a file per table before run() holds it to abort: a table's file that failed to
    open (a link's folder unwritable) left the ones opened before it."""
    from ecom.data import generate

    opened = generate.pq.ParquetWriter

    def writer(path, *args, **kwargs):
        if "users" in path.name:
            raise PermissionError(13, "Permission denied")
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(generate.pq, "ParquetWriter", writer)
    with pytest.raises(PermissionError):
        generate._ParquetSink(tmp_path, "a test")
    assert list(tmp_path.iterdir()) == []


def test_generate_says_so_when_the_parquet_files_fail_after_the_commit(copy, tmp_path):
    folder = tmp_path / "parquet"
    driver = textwrap.dedent(
        f"""
        import ecom.data.generate as g
        renames = g._ParquetSink.commit
        def full(self):  # the --parquet folder's renames fail; the database's scratch files are renamed
            if self.path("users").parent.name == {folder.name!r}:
                raise OSError(28, "No space left on device")
            renames(self)
        g._ParquetSink.commit = full
        """
    )
    done = shell(
        "generate", "--scale", "0.001", "--replace", "--path", str(copy), "--parquet", str(folder), driver=driver
    )
    assert done.returncode == 1
    assert one_line_error(done.stderr) == (
        f"error: the database holds the new data, but the Parquet files in {folder} may be partly replaced "
        "([Errno 28] No space left on device): generate them again with --no-duckdb"
    )
    with duckdb.connect(str(copy), read_only=True) as con:  # the generated users, not the scenario's
        assert con.execute("SELECT count(*) FROM raw.users").fetchone()[0] == 100


@NO_BUILD
def test_bigquery_settings_of_the_wrong_kind(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ecom.toml").write_text("[bigquery]\nproject = 5\n")
    code, stderr = cli("compile", "--target", "bigquery", "--vars", AS_OF)
    assert code == 1
    assert "bigquery.project must be a string" in one_line_error(stderr)
    (tmp_path / "ecom.toml").unlink()
    code, stderr = cli(
        "build", "--target", "bigquery", "--project", "my-proj", "--dataset", "d",
        env={"GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path), "BIGQUERY_EMULATOR_HOST": ""},
    )  # fmt: skip
    assert code == 1
    assert "names the folder" in one_line_error(stderr)


# Another process holds the database: writers are refused naming the file; readers still work.
@contextlib.contextmanager
def held(db: Path, read_only: bool):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(db)!r}, read_only={read_only})
            print("open", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_locked_database_is_named(copy):
    with held(copy, read_only=False):
        done = shell("build", "--vars", AS_OF, "--path", str(copy))
    assert done.returncode == 1
    message = one_line_error(done.stderr)
    assert str(copy) in message and "another ecom or duckdb" in message


def test_a_corrupt_database_is_not_called_in_use(copy):
    """DuckDB's "checksum ... in block at location ..." once read as a lock ("block")."""
    with copy.open("r+b") as f:
        f.seek(12_288)
        f.write(b"GARBAGE" * 2_000)
    done = shell("build", "--vars", AS_OF, "--path", str(copy))
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    message = one_line_error(done.stderr)
    assert message.startswith(f"error: cannot open the DuckDB database {copy}: ") and "in use" not in message


def test_duckdb_refusing_outside_a_build_is_one_line(copy):
    """DuckDB's errors before the build's transaction (here the source checks under a memory limit
    too small for them) were tracebacks."""
    message = assert_refused(copy, "build", "--vars", AS_OF, env={"ECOM_DUCKDB_MEMORY_LIMIT": "1MB"})
    assert message.startswith("error: DuckDB: Out of Memory Error")
    # DuckDB's words named neither the limit nor the setting that raises it
    assert message.endswith("; ECOM_DUCKDB_MEMORY_LIMIT=1MB is too small for this: raise it")
    # too small to open the file at all
    message = assert_refused(copy, "build", "--vars", AS_OF, env={"ECOM_DUCKDB_MEMORY_LIMIT": "1KB"})
    assert message.startswith(f"error: cannot open the DuckDB database {copy}: Out of Memory Error")
    assert message.endswith("; ECOM_DUCKDB_MEMORY_LIMIT=1KB is too small for this: raise it")


def test_a_transaction_out_of_memory_names_the_limit(copy):
    # generate's tables, replaced in one transaction: DuckDB's words alone, then "nothing was changed"
    message = assert_refused(copy, "generate", "--scale", "0.05", "--replace", env={"ECOM_DUCKDB_MEMORY_LIMIT": "5MB"})
    assert message.startswith("error: Out of Memory Error: ")
    assert message.endswith(
        f"; nothing was changed in {copy}; ECOM_DUCKDB_MEMORY_LIMIT=5MB is too small for this: raise it"
    )


def test_out_of_memory_advice_names_the_limit_it_hit(monkeypatch):
    monkeypatch.delenv("ECOM_DUCKDB_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(duckdb_target, "default_memory_limit", lambda: "2560MiB")
    said = "Out of Memory Error: could not allocate block of size 256.0 KiB (2.4 GiB/2.5 GiB used)"
    assert DuckDBTarget.advice(None, said) == (
        "; the default memory limit (2560MiB) is too small: raise it, e.g. ECOM_DUCKDB_MEMORY_LIMIT=4GB"
    )
    monkeypatch.setenv("ECOM_DUCKDB_MEMORY_LIMIT", "16GB")  # no example below it: 4GB would lower the limit
    assert DuckDBTarget.advice(None, said) == "; ECOM_DUCKDB_MEMORY_LIMIT=16GB is too small for this: raise it"
    assert DuckDBTarget.advice(None, "Binder Error: no column x") == ""


FIX_EXPORT = "Fix the export (or load it again with `ecom load`)."


@NO_BUILD
@pytest.mark.parametrize(
    ("command", "closing"),
    [
        # each said the build's "no model was run"
        (["compile"], FIX_EXPORT),
        (["test", "--select", "stg_products"], FIX_EXPORT),  # the variables' defaults read first
        (["docs"], FIX_EXPORT),
        (["spend", "--replace"], "Fix the events; marketing_spend was not written."),
        (["freshness"], FIX_EXPORT),
    ],
)
def test_a_missing_raw_column_is_the_source_contracts_list_in_every_command(tmp_path, monkeypatch, command, closing):
    """compile, test and docs read the raw data for a variable's default (here no build recorded
    its variables: test and docs compute them), spend reads the events: each said
    `IbisTypeError: Column 'created_at' is not found` in a traceback."""
    db = tmp_path / "ecom.duckdb"
    assert cli("load", str(SCENARIO), "--path", str(db))[0] == 0
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE raw.events DROP COLUMN created_at")
    # the model test tests is there (with nothing built, test says so first, whatever the raw data)
    con.execute("CREATE TABLE main.stg_products AS SELECT 1 AS product_id")
    con.close()
    before = snapshot(db)
    monkeypatch.chdir(tmp_path)  # compile and docs write under the working folder
    result = runner.invoke(app, [*command, "--path", str(db)])
    assert result.exit_code == 1 and "Traceback" not in result.output, result.output
    assert "events.created_at: expected timestamp('UTC'), found no such column" in result.stderr
    assert result.stderr.rstrip().endswith(closing)
    assert snapshot(db) == before


def test_test_of_a_view_whose_raw_table_is_gone_names_it(copy):
    """The staging views read the raw tables: with raw.orders dropped after the build, each of their
    20 data tests said `ERROR <test> (stg_orders)`, as if stg_orders were missing."""
    with duckdb.connect(str(copy)) as con:
        con.execute("DROP TABLE raw.orders")
    before = snapshot(copy)
    code, stderr = cli("test", "--path", str(copy))
    assert code == 1 and "ERROR" not in stderr
    assert "- orders: expected a table, found none" in stderr
    assert stderr.rstrip().endswith("Fix the export (or load it again with `ecom load`); no test was run.")
    assert snapshot(copy) == before
    # the tests of the products' and inventory's models read no view over orders
    assert cli("test", "--select", "stg_products", "--select", "stg_inventory", "--path", str(copy))[0] == 0


def test_test_and_report_only_read(copy, tmp_path):
    before = snapshot(copy)
    with held(copy, read_only=True):
        assert cli("test", "--path", str(copy))[0] == 0  # a writer would be refused the lock
        code, stderr = cli("report", "--out", str(tmp_path / "r.html"), "--path", str(copy))
        assert code == 0, stderr
    assert snapshot(copy) == before


@contextlib.contextmanager
def unwritable(folder: Path, monkeypatch) -> Iterator[None]:
    """`folder` made unwritable, and made writable again. Root writes through permissions: for it the
    refusal a read-only mount gives is arranged where ecom probes a folder (other folders pass)."""
    if os.geteuid() == 0:
        make = tempfile.TemporaryFile

        def probe(*args, dir=None, **kwargs):
            if dir is not None and Path(dir) == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(folder))
            return make(*args, dir=dir, **kwargs)

        monkeypatch.setattr(duckdb_target.tempfile, "TemporaryFile", probe)
    else:
        folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(0o700)


# DuckDB logs a change in `ecom.duckdb.wal` beside the file, a large one excepted: in a folder that
# cannot be written, a whole build committed and the run's record then failed ("Failed to commit"),
# while a one-model build failed with that alone.
@pytest.mark.parametrize("command", [["build"], ["build", "--select", "fact_daily_pnl"], ["run"]])
def test_a_database_in_a_folder_that_cannot_be_written_is_refused_before_anything(copy, monkeypatch, command):
    with unwritable(copy.parent, monkeypatch):
        said = assert_refused(copy, *command, "--vars", AS_OF)
    assert said == (
        f"error: cannot write in {copy.parent} (Permission denied), where DuckDB keeps the log of changes to "
        "ecom.duckdb (ecom.duckdb.wal): make the folder writable, or move the database to one that is; "
        "nothing was changed"
    )


def test_the_folder_checked_is_the_one_of_the_file_a_link_points_to(copy, tmp_path, monkeypatch):
    """DuckDB follows a link and logs beside the file linked to: the link's own folder was checked,
    refusing a link kept in a read-only folder and passing one to a file in a read-only folder."""
    links = tmp_path / "links"
    links.mkdir()
    (links / "ecom.duckdb").symlink_to(copy)
    with unwritable(links, monkeypatch):  # the link's folder: no matter
        assert cli("build", "--select", "stg_orders", "--vars", AS_OF, "--path", str(links / "ecom.duckdb"))[0] == 0
    with unwritable(copy.parent, monkeypatch):
        said = assert_refused(links / "ecom.duckdb", "build", "--select", "stg_orders", "--vars", AS_OF)
    assert said.startswith(f"error: cannot write in {copy.parent} (Permission denied), where DuckDB keeps the log")


@pytest.mark.parametrize("command", [["generate", "--scale", "0.01"], ["load", str(SCENARIO)]])
def test_a_new_database_in_a_folder_that_cannot_be_written_is_one_line(tmp_path, monkeypatch, command):
    """Connecting failed, then removing the half-made file did too: a traceback (Read-only file system)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    with unwritable(folder, monkeypatch):
        code, stderr = cli(*command, "--path", str(folder / "sub" / "new.duckdb"))
    assert code == 1 and one_line_error(stderr) == (
        f"error: cannot write in {folder} (Permission denied), where {folder}/sub/new.duckdb would be made: "
        "make the folder writable, or give another --path; nothing was changed"
    )
    assert list(folder.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through file permissions")
def test_read_only_file(copy):
    copy.chmod(0o444)
    assert "cannot write" in assert_refused(copy, "build", "--vars", AS_OF)
    assert shell("test", "--path", str(copy)).returncode == 0


def test_a_file_the_system_does_not_permit_to_open_says_what_to_check(copy, monkeypatch):
    """EPERM (an immutable file: `chattr +i`, which root cannot write through either) gave DuckDB's
    'Operation not permitted' with nothing to do about it."""

    def refused(path, **_):
        raise duckdb.IOException(f'IO Error: Cannot open file "{path}": Operation not permitted')

    monkeypatch.setattr(duckdb_target, "connect_duckdb", refused)
    why = f'IO Error: Cannot open file "{copy}": Operation not permitted'
    expected = f"error: cannot write {copy} ({why}): check the permissions of the file and its folder"
    assert assert_refused(copy, "build", "--vars", AS_OF) == expected


# One timeout policy: reading a source (as `compile` does for as_of's default) gives up after the
# target's retry timeout, as every other lookup does, not after ibis's 10 minutes (with ibis's
# retry this test would wait those minutes; it asserts the error, never a duration).
@NO_BUILD
def test_unreachable_endpoint_gives_up_within_the_targets_timeout():
    import socket

    from ecom.targets.base import TargetError

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = bigquery_target(
        project="my-proj", dataset="d", endpoint=f"http://127.0.0.1:{port}", config_dir="/nonexistent"
    )
    target.client.retry_seconds = 0.5  # the emulator's policy is 10 s: no need to wait for it here
    with pytest.raises(TargetError, match=r"^cannot reach BigQuery while reading my-proj\.d_raw\.orders"):
        target.source("orders")


# ecom's own tables beside the models, changed by hand.
def tamper(db: Path, *statements: str) -> None:
    con = duckdb.connect(str(db))
    for statement in statements:
        con.execute(statement)
    con.close()


def models_and_raw(db: Path) -> dict[str, tuple]:
    """The snapshot of every table but ecom's own (their build ids and times differ build to build)."""
    return {t: v for t, v in snapshot(db).items() if not t.startswith("main._ecom_")}


REFRESH = "run `ecom build --full-refresh` to rebuild the incremental models and write it anew"


@pytest.mark.parametrize(
    "statement, table, problem",
    [
        ("ALTER TABLE _ecom_state DROP COLUMN code_hash", "_ecom_state", "no column code_hash"),
        ("ALTER TABLE _ecom_state DROP COLUMN model", "_ecom_state", "no column model"),
        (
            "UPDATE _ecom_state SET vars = 'not json' WHERE model = 'int_web_sessions'",
            "_ecom_state",
            "column vars holds a value that is not a JSON object",
        ),
        ("ALTER TABLE _ecom_state ALTER as_of TYPE VARCHAR", "_ecom_state", "column as_of is string, not date"),
        # 'model stg_events failed: '<' not supported between instances of 'datetime.date' and 'NoneType''
        ("UPDATE _ecom_state SET as_of = NULL", "_ecom_state", "column as_of holds a NULL"),
        ("ALTER TABLE _ecom_partitions DROP COLUMN fingerprint", "_ecom_partitions", "no column fingerprint"),
    ],
)
def test_a_changed_state_table_stops_the_build_and_full_refresh_rebuilds(built, copy, statement, table, problem):
    """The build said `model stg_events failed: 'code_hash'` (or the JSON parser's message), and
    --full-refresh read the state too and failed the same way."""
    tamper(copy, statement)
    expected = f"error: the internal table {table} is not as ecom wrote it ({problem}): {REFRESH}"
    before = snapshot(copy)
    code, stderr = cli("build", "--vars", AS_OF, "--path", str(copy))
    assert code == 1 and last_line(stderr) == expected, stderr  # after the line "Building 25 models on ..."
    assert snapshot(copy) == before
    if table == "_ecom_state":  # `ecom ls` shows the state
        assert assert_refused(copy, "ls") == expected

    # the incremental models and only they (with no other ancestor) read and write the state
    incremental = ("--select", "+fact_session_metrics", "--vars", AS_OF, "--path", str(copy))
    code, stderr = cli("build", "--full-refresh", *incremental)
    assert code == 0, stderr
    assert models_and_raw(copy) == models_and_raw(built)  # the raw tables kept, the models a clean build's
    con = duckdb.connect(str(copy), read_only=True)
    state = con.execute("SELECT model, mode, replaced_from FROM _ecom_state ORDER BY model").fetchall()
    con.close()
    assert state == [(m, "full", None) for m in ("fact_session_metrics", "int_web_sessions", "stg_events")]
    assert cli("build", *incremental)[0] == 0  # the state reads again


@pytest.mark.parametrize(
    "statement, problem",
    [
        ("ALTER TABLE _ecom_runs DROP COLUMN status", "no column status"),
        ("UPDATE _ecom_runs SET tests = 'not json'", "column tests holds a value that is not a JSON array"),
        ("UPDATE _ecom_runs SET started_at = NULL", "column started_at holds a NULL"),  # runs are sorted by it
        (
            "ALTER TABLE _ecom_runs ALTER started_at TYPE VARCHAR",
            "column started_at is string, not timestamp('UTC', 6)",
        ),
    ],
)
def test_a_changed_run_history_is_one_line_in_runs_and_run(copy, tmp_path, statement, problem):
    """`ecom runs` raised a KeyError (or the JSON parser's error), `ecom run` failed the same way
    when it recorded the run, after building and publishing."""
    site = tmp_path / "site"
    assert cli("run", "--publish", str(site), "--path", str(copy))[0] == 2  # stale: recorded, nothing built
    tamper(copy, statement)
    expected = (
        f"error: the internal table _ecom_runs is not as ecom wrote it ({problem}): "
        "set it back, or drop it to start a new history (the runs it lists are lost)"
    )
    assert assert_refused(copy, "runs") == expected
    assert assert_refused(copy, "run", "--publish", str(site)) == expected
    assert not site.exists()


@pytest.mark.parametrize(
    "statement, table, problem",
    [
        ("ALTER TABLE _ecom_vars DROP COLUMN value", "_ecom_vars", "no column value"),
        ("ALTER TABLE _ecom_build ALTER rows TYPE VARCHAR", "_ecom_build", "column rows is string, not int64"),
    ],
)
def test_a_changed_build_record_is_one_line_and_a_build_writes_it_anew(built, copy, statement, table, problem):
    """`ecom test` raised KeyError: 'value' on _ecom_vars without its value column; a build over
    _ecom_build without a column wrote it back with that column NULL for every other model."""
    tamper(copy, statement)
    rewrite = "run `ecom build` (every model) to write it anew"
    expected = f"error: the internal table {table} is not as ecom wrote it ({problem}): {rewrite}"
    command = ["test"] if table == "_ecom_vars" else ["docs", "--out", str(copy.parent / "docs.html")]
    assert assert_refused(copy, *command) == expected
    assert cli("build", "--vars", AS_OF, "--path", str(copy))[0] == 0
    with duckdb.connect(str(copy), read_only=True) as con:
        columns = con.execute(f"SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = '{table}'")
        assert columns.fetchall() == (
            [("name", "VARCHAR"), ("value", "VARCHAR")]
            if table == "_ecom_vars"
            else [
                ("model", "VARCHAR"),
                ("rows", "BIGINT"),
                ("seconds", "DOUBLE"),
                ("built_at", "TIMESTAMP WITH TIME ZONE"),
            ]
        )
    assert cli(*command, "--path", str(copy))[0] == 0


def test_ecom_test_needs_only_the_raw_tables_its_views_read(copy):
    """A raw table gone after the build (users: stg_users, a view, reads it; dim_customers, a table,
    was built from it) stopped `ecom test` on every model built from it: a table holds its rows."""
    tamper(copy, "DROP TABLE raw.users")
    result = invoke("test", "--select", "dim_customers", "--path", str(copy))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")
    result = invoke("test", "--select", "stg_users", "--path", str(copy))
    assert result.exit_code == 1
    assert "  - users: expected a table, found none" in result.stderr and "Traceback" not in result.output


def test_ecom_test_refuses_tables_not_as_their_models_build_them(copy):
    """A column dropped or retyped by hand (or a table built by an older ecom): its tests said
    `'StringColumn' object has no attribute 'sum'` or passed on the wrong type, each alone."""
    tamper(
        copy,
        "ALTER TABLE main.fact_daily_pnl DROP COLUMN roas",
        "ALTER TABLE main.dim_customers ALTER age TYPE VARCHAR",
        "ALTER TABLE main.int_web_sessions DROP COLUMN session_id",  # incremental: rebuilt in full
    )
    assert assert_refused(copy, "test") == (
        f"error: not as their models build them on duckdb main in {copy}: "
        "int_web_sessions (no column session_id); dim_customers (column age is string, not int64); "
        "fact_daily_pnl (no column roas): rebuild before testing, e.g. "
        "`ecom build --full-refresh --select int_web_sessions,dim_customers,fact_daily_pnl`"
    )
    # only the models tested and the parents their relationships tests read
    assert assert_refused(copy, "test", "--select", "fact_daily_pnl").endswith("`ecom build --select fact_daily_pnl`")
    assert cli("test", "--select", "stg_orders", "--path", str(copy))[0] == 0


def test_a_data_test_reading_a_column_the_table_lacks_names_table_and_column(copy, project):
    """ibis said only `'Table' object has no attribute 'roas'`, in the test's ERROR line (a test
    naming a column no model writes, or a table the check before the tests did not cover)."""
    tamper(copy, "ALTER TABLE main.fact_daily_pnl DROP COLUMN roas")
    target = DuckDBTarget(copy, read_only=True)
    values = engine.built_vars(project, target, {})
    cases = [
        c
        for c in engine.singular_tests(project, ["fact_daily_pnl"], values)
        if c.name == "fact_daily_pnl_ratios_in_range"
    ]
    results = engine.run_tests(cases, target.table)
    target.close()
    assert [(r.status, r.message) for r in results] == [
        (
            "error",
            "fact_daily_pnl as built has no column roas: rebuild with `ecom build` if its model writes one",
        )
    ]


# Marts changed by hand to a type or value ibis reads but the page cannot show.
REBUILD = "rebuild with `ecom build`"


@pytest.mark.parametrize(
    "statement, expected",
    [
        (
            "ALTER TABLE fact_daily_pnl ALTER net_revenue TYPE DECIMAL(18, 2)",
            "page overview cannot read the marts as built (fact_daily_pnl.net_revenue is decimal(18, 2), not float64)",
        ),
        (
            "ALTER TABLE fact_daily_pnl ALTER date TYPE TIMESTAMP",
            "page overview cannot read the marts as built (fact_daily_pnl.date is timestamp(6), not date)",
        ),
        (
            "UPDATE fact_daily_pnl SET net_revenue = 'NaN' WHERE date = (SELECT max(date) FROM fact_daily_pnl)",
            "the report's dataset pnl has NaN or infinity in net_revenue, which the models never write",
        ),
        (
            "UPDATE fact_campaign_performance SET spend = 'inf' WHERE campaign_id = "
            "(SELECT min(campaign_id) FROM fact_campaign_performance)",
            "the report's dataset campaigns has NaN or infinity in spend, which the models never write",
        ),
    ],
)
def test_report_refuses_a_mart_changed_to_what_the_page_cannot_show(copy, tmp_path, statement, expected):
    """A DECIMAL failed in the JSON encoder, a NaN or inf in it too (JSON has neither), a date held
    as TIMESTAMP in ibis's union of the daily and monthly rows: tracebacks."""
    tamper(copy, statement)
    report = tmp_path / "report.html"
    report.write_text("the old report")
    assert assert_refused(copy, "report", "--out", str(report)) == f"error: {expected}: {REBUILD}"
    assert report.read_text() == "the old report"


def test_a_partial_build_of_other_models_keeps_a_variable_given_to_an_earlier_one(copy):
    """A user's two partial builds: the second (no --vars) was refused, "critical_days=7: the built
    models this build leaves as they are (fact_inventory_forecast) were built with critical_days=10"."""
    for args in (["--select", "fact_inventory_forecast", "--vars", "critical_days=10"], ["--select", "fact_daily_pnl"]):
        code, stderr = cli("build", *args, "--vars", AS_OF, "--path", str(copy))
        assert code == 0, stderr
    assert "critical_days=10" in stderr  # the "Building 1 model ... with" line: the value kept
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute("SELECT value FROM main._ecom_vars WHERE name = 'critical_days'").fetchone() == ("10",)


@NO_BUILD
def test_compile_into_an_empty_out_is_refused(tmp_path, monkeypatch):
    """`ecom compile --out ''` wrote duckdb/*.sql into the working directory (Path('') is '.')."""
    monkeypatch.chdir(tmp_path)
    code, stderr = cli("compile", "--out", "", "--vars", "as_of=2024-03-31", "--path", str(tmp_path / "x.duckdb"))
    assert code == 1
    assert one_line_error(stderr) == "error: --out is empty: give the folder to write the .sql files in"
    assert list(tmp_path.iterdir()) == []


@NO_BUILD
@pytest.mark.parametrize("command", ["report", "docs"])
@pytest.mark.parametrize("empty", [False, True])
def test_an_out_ending_in_a_slash_is_a_folder_not_a_file_named_so(tmp_path, monkeypatch, command, empty):
    """`ecom report --out site/` wrote a file named site (a Path drops the slash); `ecom docs --out ''`
    wrote target/catalog.html, as if --out had not been given."""
    monkeypatch.chdir(tmp_path)
    out = "" if empty else f"{tmp_path / 'site'}/"
    code, stderr = cli(command, "--out", out, "--path", str(tmp_path / "ecom.duckdb"))
    assert code == 1
    assert one_line_error(stderr) == (
        "error: --out is empty: give the name of a file to write"
        if empty
        else f"error: --out {out} names a folder: give the name of a file to write (in it or elsewhere)"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("command", "out", "written"),
    [
        ("report", "r.html", "r.html"),
        ("docs", "site/catalog.json", "site/catalog.json"),
        ("compile", "sql", "sql/duckdb/stg_orders.sql"),
    ],
)
def test_an_out_below_a_file_names_the_file(copy, command, out, written):
    """Making the folders said only "File exists" (or "Not a directory"), not which file was in the way."""
    blocker = copy.parent / "afile"
    blocker.write_text("mine")
    message = assert_refused(copy, command, "--out", str(blocker / out))
    why = f"{blocker} is a file, not a folder; nothing was replaced"
    assert message == f"error: cannot write {blocker / written}: {why}"
    assert sorted(p.name for p in copy.parent.iterdir()) == ["afile", "ecom.duckdb"]
    assert blocker.read_text() == "mine"


def test_a_recorded_variable_refused_now_is_named_as_the_record_not_as_vars(copy):
    """A record written before a check existed (or changed by hand): a partial build, which keeps the
    recorded value of a variable it does not use, and ecom test said only "session_timeout_minutes must
    be a whole number no larger than 100,000, not 200000", as if --vars had given it."""
    with duckdb.connect(str(copy)) as con:
        con.execute("UPDATE main._ecom_vars SET value = '200000' WHERE name = 'session_timeout_minutes'")
    expected = (
        f"error: the last build on duckdb main in {copy} recorded session_timeout_minutes=200000, which is "
        "refused now (session_timeout_minutes must be a whole number no larger than 100,000, not 200000): "
        "run `ecom build` (every model) to build again with a value that is accepted"
    )
    assert assert_refused(copy, "build", "--select", "fact_daily_pnl", "--vars", AS_OF) == expected
    assert assert_refused(copy, "test") == expected
    code, stderr = cli("build", "--vars", AS_OF, "--path", str(copy))  # the way out the message gives
    assert code == 0, stderr


def test_a_partial_build_checks_the_values_of_the_raw_tables_it_reads_only(copy):
    """`ecom build --select fact_daily_pnl` reads built models and, through the stg_orders view (on
    DuckDB; a table on BigQuery), raw.orders, but checked the values of all eight (on BigQuery a query
    reading every key, timestamp and amount of the raw data, events included)."""
    with duckdb.connect(str(copy)) as con:  # a repeated product id: a problem of raw.products' values
        con.execute("INSERT INTO raw.products SELECT * FROM raw.products ORDER BY id LIMIT 1")
    code, stderr = cli("build", "--select", "fact_daily_pnl", "--vars", AS_OF, "--path", str(copy))
    assert code == 0, stderr
    code, stderr = cli("build", "--select", "stg_products", "--vars", AS_OF, "--path", str(copy))
    assert code == 1
    assert "  - products.id: expected a unique key, found 1 row repeating another row's key\n" in stderr


def test_a_partial_build_checks_the_values_of_the_raw_tables_it_reads_through_views(copy):
    """On DuckDB the staging models are views: `--select fact_product_performance` reads raw.products
    through stg_products when it runs, and built its 7 products as 8 rows over a repeated raw id
    without a word, the value check having looked at the selected model's own raw tables (none)."""
    with duckdb.connect(str(copy)) as con:
        con.execute("INSERT INTO raw.products SELECT * FROM raw.products ORDER BY id LIMIT 1")
    before = snapshot(copy)
    code, stderr = cli("build", "--select", "fact_product_performance", "--vars", AS_OF, "--path", str(copy))
    assert code == 1, stderr
    assert "  - products.id: expected a unique key, found 1 row repeating another row's key\n" in stderr
    assert snapshot(copy) == before


# An incremental model's table changed by hand: the build appended to it and failed in the engine
# (`model stg_events failed: Binder Error: Table "stg_events" does not have a column with name
# "ip_hash"`, `Binder Error: Can only delete from base table`), or quietly wrote another type's text.
@pytest.mark.parametrize(
    "statements, model, problem",
    [
        (["ALTER TABLE main.stg_events DROP COLUMN ip_hash"], "stg_events", "no column ip_hash"),
        (["ALTER TABLE main.int_web_sessions DROP COLUMN session_id"], "int_web_sessions", "no column session_id"),
        (
            ["ALTER TABLE main.fact_session_metrics ALTER duration_seconds TYPE VARCHAR"],
            "fact_session_metrics",
            "column duration_seconds is string, not float64",
        ),
        (
            ["ALTER TABLE main.fact_session_metrics ADD COLUMN note VARCHAR"],
            "fact_session_metrics",
            "an extra column note",
        ),
        (
            [
                "ALTER TABLE main.stg_events RENAME TO stg_events_kept",
                "CREATE VIEW main.stg_events AS SELECT * FROM main.stg_events_kept",
            ],
            "stg_events",
            "a view, not a table",
        ),
    ],
)
def test_an_incremental_table_changed_by_hand_stops_the_build_until_rebuilt_in_full(copy, statements, model, problem):
    tamper(copy, *statements)
    before = snapshot(copy)
    code, stderr = cli("build", "--vars", AS_OF, "--path", str(copy))
    assert code == 1
    assert last_line(stderr) == (
        f"error: {model} is not as its model builds it on duckdb main in {copy} ({problem}): "
        f"rebuild it with `ecom build --full-refresh --select {model}`"
    )
    assert snapshot(copy) == before
    # the advice works, and the next plain build appends again
    assert cli("build", "--full-refresh", "--select", model, "--vars", AS_OF, "--path", str(copy))[0] == 0
    assert cli("build", "--vars", AS_OF, "--path", str(copy))[0] == 0


# A built upstream changed by hand, then a build of its downstream only: the model failed with
# ibis's words (`'StringColumn' object has no attribute 'sum'`, `'Table' object has no attribute
# 'net_revenue'`), like the upstream not built at all before that said which to build.
@pytest.mark.parametrize(
    "statement, model, upstream, problem, fix",
    [
        (
            "ALTER TABLE main.fact_daily_pnl ALTER net_revenue TYPE VARCHAR",
            "fact_daily_pnl_advanced",
            "fact_daily_pnl",
            "column net_revenue is string, not float64",
            "--select +fact_daily_pnl_advanced",
        ),
        (
            "ALTER TABLE main.fact_daily_pnl DROP COLUMN net_revenue",
            "fact_daily_pnl_advanced",
            "fact_daily_pnl",
            "no column net_revenue",
            "--select +fact_daily_pnl_advanced",
        ),
        # incremental: a build of it that is not in full would refuse the table as it is
        (
            "ALTER TABLE main.int_web_sessions DROP COLUMN session_id",
            "fact_session_metrics",
            "int_web_sessions",
            "no column session_id",
            "--full-refresh --select +fact_session_metrics",
        ),
    ],
)
def test_a_downstream_build_over_an_upstream_changed_by_hand_says_what_to_build(
    copy, statement, model, upstream, problem, fix
):
    tamper(copy, statement)
    before = snapshot(copy)
    code, stderr = cli("build", "--select", model, "--vars", AS_OF, "--path", str(copy))
    assert code == 1
    assert last_line(stderr) == (
        f"error: {model} reads {upstream}, which is not as its model builds it on duckdb main in {copy} "
        f"({problem}): build it too, e.g. {fix}"
    )
    assert snapshot(copy) == before
    assert cli("build", *fix.split(), "--vars", AS_OF, "--path", str(copy))[0] == 0
