"""`ecom run`, the unattended morning: freshness, build, data tests, publish, record (and notify).

    --load refused       -> nothing loaded, nothing built            status error,  exit 1
    freshness error      -> stop, nothing built                     status stale,  exit 2
    a model fails        -> the build rolls back (DuckDB)            status error,  exit 1
    a data test fails    -> the build rolls back (DuckDB), the       status failed, exit 1
                            publish folder is left as it was
    otherwise            -> report and catalog published             status success, exit 0

On DuckDB the data tests run inside the build's transaction, before its COMMIT (write-audit-publish):
a test that fails or errs rolls every model back, and the build's record (_ecom_build, _ecom_vars,
the incremental state) with them, so nobody reads marts their tests rejected. An error aborts the
transaction: the tests after it are not run. BigQuery has no transaction across tables: there the
tests run once every table is replaced, and a failing one keeps only the published report.

Every run, whatever its end, appends one record to `_ecom_runs` (ecom.core.runs); one that cannot
start (its target, variables or settings refused: `ecom run` in ecom.cli) has nowhere to record and
is only notified. With a notify URL, a stale (warn or error), warned or unsuccessful run also POSTs
`{"text": ...}`, Slack's incoming-webhook shape, which never changes the run's outcome.

With `--load FOLDER` the morning's export is loaded first (as `ecom load`, each file replacing its
raw table): a scheduler's `ecom load ... && ecom run ...` left an export the load refused unrecorded
and unnotified.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import shutil
import tempfile
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecom.core import engine
from ecom.core import freshness as fresh
from ecom.core.files import FileWriteError, describe_os_error, in_a_link_loop, not_utf8, write_refused
from ecom.core.interrupts import committed, ctrl_c_pressed, stop_if_ctrl_c
from ecom.core.registry import Project
from ecom.core.runs import RunRecord, append, recorded
from ecom.core.text import counted
from ecom.core.vars import printable
from ecom.data.load import load_into, read_folder
from ecom.outputs import catalog
from ecom.outputs import report as dashboard
from ecom.targets.base import InterruptedAfterCommit, Location, Target, first_line

NOTIFY_TIMEOUT_SECONDS = 10
EXIT_CODES = {"success": 0, "failed": 1, "error": 1, "stale": 2}
ROLLED_BACK = "the build was rolled back (the marts are as they were before this run)"
NOT_RUN = "{} not run (the error aborted the build's transaction)"
# Where the catalog's BigQuery SQL reads raw tables and models (ecom.outputs.catalog.bigquery_locations).
BigQueryAt = tuple[Callable[[str], Location], Location]


@dataclass
class Outcome:
    record: RunRecord
    checks: list[fresh.Freshness]
    tests: list[engine.TestResult]
    notified: str | None  # why the notification failed, or None
    history: list[dict[str, Any]] | None = None  # the runs recorded before this one, once read
    warnings: list[str] = field(default_factory=list)  # about the variables given, a shrunk raw table
    loaded: dict[str, int] = field(default_factory=dict)  # rows of each raw table --load replaced
    # the build replaced the models' tables: on DuckDB once it committed (its tests passed), on
    # BigQuery once every model was built, before the tests
    built: bool = False
    not_run: int = 0  # data tests after one that erred inside the build's transaction

    @property
    def stale(self) -> list[fresh.Freshness]:
        return [c for c in self.checks if c.status in ("warn", "error")]

    @property
    def rolled_back(self) -> bool:
        """Its data tests failed inside the build's transaction: the models are as they were before it."""
        return self.record.status == "failed" and not self.built

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.record.status]


SITE_FILES = ("index.html", "docs.html")  # what a run publishes, and all a folder it replaces may hold
# What marks each within its first KiB as ecom's (the report's style, the catalog's title): a file of
# that name without it is the user's (a web server's own index.html), which publishing would delete.
SITE_MARKS = {"index.html": b"/* ecom report:", "docs.html": b"<title>ecom catalog</title>"}


def write_site(
    project: Project,
    target: Target,
    values: Mapping[str, Any],
    folder: Path,
    bigquery_at: BigQueryAt,
    record: engine.LastBuild | None = None,
) -> None:
    """Everything published, as `ecom report` and `ecom docs` write it: the report as index.html,
    the catalog as docs.html beside it (its last build from `record`, the run's)."""
    try:
        dashboard.write_report(project, target.table, values, folder / SITE_FILES[0])
    except dashboard.ReportError as e:
        raise engine.BuildError(str(e)) from None
    data = catalog.catalog(project, values, bigquery_at, target, record)
    catalog.write_catalog(data, folder / SITE_FILES[1], "html")


def _published_file(path: Path) -> bool:
    """Whether `path` is a file a run published: a regular file of that name carrying its mark."""
    if path.name not in SITE_FILES or path.is_symlink() or not path.is_file():
        return False
    with contextlib.suppress(OSError), path.open("rb") as f:
        return SITE_MARKS[path.name] in f.read(1024)
    return False


def check_replaceable(folder: Path) -> None:
    """Publishing replaces the folder whole: refuse one holding anything a run does not publish (the
    database, the project, a parent of the working folder), the working folder itself, a link
    (replacing it would not publish through it), or a file in its place or in its path."""

    def refuse(why: str) -> FileWriteError:
        return FileWriteError(f"cannot publish to {not_utf8(folder) or folder}: {why}; nothing was replaced")

    why = _path_refused(folder)
    if why:
        raise refuse(why)
    try:
        foreign = sorted(p.name for p in folder.iterdir() if not _published_file(p)) if folder.is_dir() else []
    except OSError as e:
        raise refuse(describe_os_error(e)) from None
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise refuse(
            f"it holds {shown}, which a run does not publish, and publishing replaces the folder whole: "
            "choose a new or empty folder"
        )
    # the new site is made beside the folder and renamed over it: found only after the build before
    where = next(p for p in folder.absolute().parents if p.exists())
    if why := write_refused(where):
        raise refuse(f"{where} cannot be written ({why})")


def _path_refused(folder: Path) -> str | None:
    """Why check_replaceable refuses `folder` whatever it holds, its path alone (a link, a file in its
    place or in its path, the working folder), before its files are listed; None when it does not."""
    if in_a_link_loop(folder):  # it points to no folder
        return "it is a loop of symbolic links: give a folder"
    if not_utf8(folder):  # published, then the record (Arrow, UTF-8 only) failed: refused before the build
        return "its name is not UTF-8, which the run's record cannot hold: give another folder"
    if folder.is_symlink():
        return "it is a symbolic link: give the folder it points to"
    if folder.exists() and not folder.is_dir():
        return "it is a file, not a folder"
    for parent in folder.absolute().parents:
        if parent.exists() and not parent.is_dir():
            return f"{parent} is a file, not a folder"
    if folder.exists() and folder.resolve() == Path.cwd().resolve():
        return "it is the working folder"
    return None


def publish(folder: Path, write: Callable[[Path], None]) -> None:
    """Write into a new folder beside `folder`, then swap it in: readers see the old site or the new
    one, never a half-written one (between the two renames the folder is briefly absent). A failed
    write leaves `folder` untouched, and so does a folder `check_replaceable` refuses."""
    check_replaceable(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        new = Path(tempfile.mkdtemp(prefix=f".{folder.name}-new-", dir=folder.parent))
    except OSError as e:
        raise FileWriteError(f"cannot publish to {folder}: {describe_os_error(e)}") from None
    old = new.with_name(new.name.replace("-new-", "-old-"))
    try:
        write(new)
        new.chmod(0o755)  # mkdtemp's folder is private; a published site is read by a web server
        stop_if_ctrl_c()  # one a query swallowed: yesterday's site is not replaced after it
        if folder.exists():
            folder.rename(old)
        try:
            new.rename(folder)
        except BaseException:
            if old.exists():
                old.rename(folder)
            raise
    except BaseException as e:
        shutil.rmtree(new, ignore_errors=True)
        if isinstance(e, OSError):
            raise FileWriteError(f"cannot publish to {folder}: {describe_os_error(e)}; it was not replaced") from None
        raise
    shutil.rmtree(old, ignore_errors=True)


def notify(url: str, text: str) -> str | None:
    """POST {"text": text} as JSON; the reason it failed, or None. Never raises."""
    try:  # the Request too: it parses the URL (`http://[::1` is a ValueError)
        request = urllib.request.Request(
            url, data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}, method="POST"
        )
        with urllib.request.urlopen(request, timeout=NOTIFY_TIMEOUT_SECONDS) as response:
            response.read()
    except Exception as e:  # unreachable, refused, timed out, HTTP error: reported, not raised
        return first_line(e)
    return None


def describe_age(age: dt.timedelta | None) -> str:
    """An age or threshold as people say it: hours up to two days, then days."""
    if age is None:
        return "no rows"
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if abs(hours) >= 48 else f"{hours:.1f} hours"


def late_tables(checks: list[fresh.Freshness]) -> str:
    """Tables past a freshness threshold, as people read them: "events 30.3 hours old (warn)"."""

    def late(c: fresh.Freshness) -> str:  # no row at or before the clock: not "no rows old"
        if c.age is not None:
            return f"{c.table} {describe_age(c.age)} old"
        if c.dated_later:  # "no rows" sent the user to the export when the clock (ECOM_NOW) is behind it
            return f"{c.table} has no row dated before now, {c.dated_later:,} after"
        return f"{c.table} has no rows"

    return ", ".join(f"{late(c)} ({c.status})" for c in checks)


def stale_advice(checks: list[fresh.Freshness]) -> str:
    """What to do about the tables past error_after: a newer export, unless every one has all its rows
    dated after the clock, which a newer export would not change."""
    late = [c for c in checks if c.status == "error"]
    if late and all(c.age is None and c.dated_later for c in late):
        return "check the clock (and ECOM_NOW, if set): the rows are dated after it"
    return "load a newer export, or raise error_after under [freshness] in ecom.toml"


def late_raw_data(outcome: Outcome) -> str:
    """The tables past a freshness threshold, as the notification, the run's last line and `ecom runs`
    name them: "late raw data: events 30.3 hours old (warn)"."""
    return "late raw data: " + late_tables(outcome.stale)


def summary(outcome: Outcome) -> str:
    """One line for the notification: what ran where, how it ended, and why."""
    r = outcome.record
    parts = [f"ecom run on {r.target}: {r.status}" + (f" (as_of {r.as_of})" if r.as_of else "")]
    if outcome.stale:
        parts.append(late_raw_data(outcome))
    failing = [t.name for t in outcome.tests if t.status != "pass"]
    if failing:
        shown = ", ".join(failing[:5]) + (" …" if len(failing) > 5 else "")
        parts.append(f"{counted(len(failing), 'data test')} failed: {shown}")
    if outcome.not_run:
        parts.append(NOT_RUN.format(counted(outcome.not_run, "data test")))
    if r.message:  # an error's, or a run's warnings (_finish records them first), failed tests or not
        parts.append(r.message)
    if outcome.rolled_back:
        parts.append(ROLLED_BACK)
    if r.status != "success":
        parts.append("the published report was not replaced")
    return "; ".join(parts)


def run(
    project: Project,
    target: Target,
    given: Mapping[str, Any],
    site: Path,
    bigquery_at: BigQueryAt,
    notify_url: str | None = None,
    limits: Mapping[str, Mapping[str, dt.timedelta | None]] | None = None,
    on_step: Callable[[str], None] = lambda text: None,
    load: Path | None = None,
    allow_empty: bool = False,
) -> Outcome:
    """One whole run; see the module's docstring. An unexpected error is recorded (and notified),
    then raised. `load`: an export folder to load first (`allow_empty` as `ecom load`'s)."""
    record = RunRecord(uuid.uuid4().hex[:12], dt.datetime.now(dt.UTC), engine.describe(target))
    outcome = Outcome(record, [], [], None)
    try:
        try:
            limits = limits or fresh.configured_thresholds()
            # before the export is loaded or anything built: a run refused for its publish folder, or
            # for a history changed by hand that could not record it, changes no data
            check_replaceable(site)  # checked again when published
            outcome.history = recorded(target)
            if load is not None:  # the first step: an export refused is this run's error
                on_step(f"loading {load}")
                outcome.loaded, shrunk = load_into(target, read_folder(load), allow_empty)
                outcome.warnings += [shrunk] if shrunk else []
            _steps(project, target, given, site, bigquery_at, limits, outcome, on_step)
        except Exception as e:
            if ctrl_c_pressed():  # a Ctrl-C (below), not a failed run
                raise
            record.status, record.message = "error", first_line(e)
            # the history may be unreachable too: the first error is the one to show
            with contextlib.suppress(Exception):
                _finish(target, outcome, notify_url)
            raise
        # in the same try as the steps: a Ctrl-C while the run is recorded left its record undone
        # too, which "the rest of the output was skipped" did not say
        try:
            _finish(target, outcome, notify_url)
        except target.write_errors as e:  # BigQuery's are TargetErrors (its write_table's readable_errors)
            if ctrl_c_pressed():
                raise
            raise engine.BuildError(_unrecorded(outcome, e, notify_url)) from None
    except KeyboardInterrupt as e:
        _raise_if_committed(record, site, _built_when_interrupted(outcome, e, load))
        raise
    except Exception:
        if ctrl_c_pressed():  # what DuckDB made of a Ctrl-C ("Query interrupted")
            _raise_if_committed(record, site, outcome.built)
            raise KeyboardInterrupt from None
        raise
    return outcome


def _built_when_interrupted(outcome: Outcome, interrupt: KeyboardInterrupt, load: Path | None) -> bool:
    """Whether the build had replaced the models when a Ctrl-C stopped the run. A held Ctrl-C raised
    once a commit is done is the build's unless the load had not returned. On DuckDB one during the
    data tests rolls the build back with them (outcome.built is False)."""
    return outcome.built or (isinstance(interrupt, InterruptedAfterCommit) and (load is None or bool(outcome.loaded)))


def _raise_if_committed(record: RunRecord, site: Path, built: bool) -> None:
    """A Ctrl-C during or after the load's or the build's commit is InterruptedAfterCommit, which says
    what the run left undone: not "nothing was committed", and not only output skipped, as a build's
    would be: the morning's build, tests, report are undone."""
    if built or committed():
        raise InterruptedAfterCommit(_undone(record, site, built)) from None


def _undone(record: RunRecord, site: Path, built: bool) -> str:
    """What a run stopped after its load's or build's commit left undone: the steps it had not
    finished (a run whose data tests failed publishes nothing)."""
    steps = [] if built else ["its build"]
    steps += [] if record.tests else ["its data tests"]
    steps += [] if record.published or record.status == "failed" else [f"the publishing to {site}"]
    return f"the run did not finish ({', '.join([*steps, 'its record in `ecom runs`'])}): run `ecom run` again"


def _unrecorded(outcome: Outcome, error: Exception, notify_url: str | None) -> str:
    """What a run did whose record could not be written (DuckDB refused to commit it: a folder it
    cannot write its log in, a full disk), notified: DuckDB's "Failed to commit" alone read as if
    nothing had been, after the build had committed and the site been published, and nobody was told."""
    text = (
        summary(outcome)
        + (f"; published to {outcome.record.published}" if outcome.record.published else "")
        + f"; but the run could not be recorded ({first_line(error)}), so `ecom runs` does not list it: "
        "fix that before the next run"
    )
    failed = notify(notify_url, text) if notify_url else None
    return text + (f" (and the notification failed: {failed})" if failed else "")


def _finish(target: Target, outcome: Outcome, notify_url: str | None) -> None:
    record = outcome.record
    record.ended_at = dt.datetime.now(dt.UTC)
    # a warning (a raw table the export shrank, an as_of far past the data) is worth a look too: in
    # the record, which has no other place for it, and the notification
    if outcome.warnings and record.message is None:
        record.message = "; ".join(outcome.warnings)
    if notify_url and (record.status != "success" or outcome.stale or outcome.warnings):
        outcome.notified = notify(notify_url, summary(outcome))
    append(target, record, outcome.history)


def _steps(
    project: Project,
    target: Target,
    given: Mapping[str, Any],
    site: Path,
    bigquery_at: BigQueryAt,
    limits: Mapping[str, Mapping[str, dt.timedelta | None]],
    outcome: Outcome,
    on_step: Callable[[str], None],
) -> None:
    record = outcome.record
    # the raw tables' shape (metadata) before freshness reads them; their values (a query reading
    # every key, timestamp and amount) only once the morning will build, not on a stale one
    engine.validate_sources(target)
    record.checked_at = fresh.now()
    outcome.checks = fresh.check(target, record.checked_at, limits)
    record.freshness = [c.as_dict() for c in outcome.checks]
    if fresh.worst(outcome.checks) == "error":
        record.status = "stale"
        return
    last = engine.LastBuild(target)  # what the build writes, the catalog shows: not read again
    values, warnings = engine.build_vars(project, target, project.order, given, last)
    outcome.warnings += warnings
    record.as_of, record.vars = values.get("as_of"), printable(project.vars, values)
    on_step(f"building {len(project.order)} models")
    cases = engine.generic_tests(project, project.order) + engine.singular_tests(project, project.order, values)

    def audit(built: list[engine.ModelResult]) -> bool:
        """The data tests, before the build commits: on DuckDB a failing one rolls it back."""
        record.models = [
            {
                "name": r.name,
                "rows": r.rows,
                "seconds": round(r.seconds, 3),
                "bytes": target.bytes_processed.get(r.name),
                **({"incremental": r.note} if r.note else {}),  # how an incremental model was built
            }
            for r in built
        ]
        outcome.built = not target.transactional  # BigQuery replaced each table as it built it
        on_step("running the data tests")
        # an error (not a failure) aborts DuckDB's transaction: every later query in it would err alike
        outcome.tests = engine.run_tests(
            cases,
            target.table,
            workers=target.test_workers,
            batch=target.batch_tests,
            stop_after_error=target.transactional,
        )
        outcome.not_run = len(cases) - len(outcome.tests)
        record.tests = [
            {"name": t.name, "status": t.status, "failures": t.failures, "message": t.message} for t in outcome.tests
        ]
        return all(t.status == "pass" for t in outcome.tests)

    try:
        engine.build(project, target, project.order, values, record=last, audit=audit)
    except engine.Rejected:
        record.status = "failed"
        return
    outcome.built = True
    on_step(f"publishing to {site}")
    publish(site, lambda folder: write_site(project, target, values, folder, bigquery_at, last))
    record.status, record.published = "success", str(site)
