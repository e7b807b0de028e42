"""Writing the files a command produces (report, compiled SQL, docs) so that a failure never leaves
a half-written file: the text goes to a temporary file in the same folder, renamed over the target
only once complete (a rename within one file system is atomic)."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from ecom.core.interrupts import stop_if_ctrl_c


class FileWriteError(Exception):
    """A file could not be written (full disk, no permission, a folder in the way); the old file,
    if any, is unchanged."""


def describe_os_error(e: OSError) -> str:
    """`File too large`, `No space left on device`, ...: the OS's reason without the errno noise."""
    return e.strerror or str(e) or type(e).__name__


def write_refused(folder: Path) -> str | None:
    """Why a file cannot be made in `folder`, or None. A real write (a file without a name, gone
    when closed): to root `os.access` says yes on a read-only mount."""
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as e:
        return describe_os_error(e)
    return None


def not_utf8(path: str | Path) -> str | None:
    """`path` as it can be printed (an undecodable byte as `\\xe9`) when it is not UTF-8 (a name made
    on a Latin-1 system), which DuckDB and Arrow cannot take; None when it is."""
    try:
        str(path).encode()
    except UnicodeEncodeError:
        return os.fsencode(str(path)).decode(errors="backslashreplace")
    return None


def file_in_the_way(path: Path) -> Path | None:
    """The file that stands where one of `path`'s folders should be (`out` in out/report.html), or
    None: making the folders would fail with only "File exists" or "Not a directory" to say why."""
    for parent in path.parents:  # the nearest first; exists() is False below a file
        if parent.exists():
            return None if parent.is_dir() else parent
    return None


def in_a_link_loop(path: Path) -> bool:
    """Whether `path` leads into a loop of symbolic links (a -> b -> a): a plain write fails there
    ("Too many levels of symbolic links"), but os.path.realpath returns a link of the loop, which a
    rename would replace with a file."""
    try:
        path.stat()
    except OSError as e:
        return e.errno == errno.ELOOP
    return False


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or what the umask gives a new file."""
    if path.exists():
        return path.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def is_duckdb_database(path: Path) -> bool:
    """Whether the file at `path` is a DuckDB database (its main header's magic bytes, DUCK at
    offset 8); OSError when it cannot be read."""
    with path.open("rb") as f:
        return f.read(12)[8:] == b"DUCK"


def _refuse_replacing(path: Path) -> None:
    if in_a_link_loop(path):
        raise FileWriteError(
            f"cannot write {path}: its path runs into a loop of symbolic links: point the link elsewhere, or "
            "remove it; nothing was replaced"
        )
    if blocker := file_in_the_way(path):
        raise FileWriteError(f"cannot write {path}: {blocker} is a file, not a folder; nothing was replaced")
    if path.is_dir():
        raise FileWriteError(f"{path} is a folder: give the name of a file to write (in it or elsewhere)")
    if path.exists() and not path.is_file():  # renamed over, `--out /dev/full` became a file (as root)
        raise FileWriteError(f"{path} is not a regular file (a device, a pipe): give the name of a file to write")
    with contextlib.suppress(OSError):  # an unreadable file: the write says what is wrong
        if path.is_file() and is_duckdb_database(path):
            raise FileWriteError(f"{path} is a DuckDB database: give another file name; nothing was replaced")


def atomic_write(path: str | Path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` all or nothing; raise FileWriteError in one line on failure.
    A DuckDB database is never replaced (`ecom report --out ecom.duckdb` would have lost the data)."""
    return atomic_write_all({Path(path): text})[0]


def atomic_write_all(files: Mapping[Path, str]) -> list[Path]:
    """Write several files all or nothing, as atomic_write does one: every path is checked and every
    text written to its temporary file before the first is renamed over its target."""
    paths = [Path(p) for p in files]
    # a symbolic link is written through, as a plain write does: renamed over, the link became a
    # file of its own and the file it names (a served folder's page) was never updated
    targets = [Path(os.path.realpath(p)) for p in paths]
    for path, target in zip(paths, targets, strict=True):
        _refuse_replacing(path)
        if path.is_symlink():  # what stands where the link points (a file in place of a folder)
            _refuse_replacing(target)
    tmps: list[str] = []
    replaced = 0
    try:
        for path, target, text in zip(paths, targets, files.values(), strict=True):
            # the folders of the path as given, as a plain write's caller makes them; not those a link
            # points into (a share not mounted): the write there fails, as a plain write would
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            tmps.append(tmp)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.chmod(tmp, _mode_for(target))  # mkstemp's file is private (0600); keep what a plain write gives
        stop_if_ctrl_c()  # one a query swallowed: no file is replaced after it
        for tmp, target in zip(tmps, targets, strict=True):
            os.replace(tmp, target)
            replaced += 1
    except BaseException as e:  # Ctrl-C included: no temporary file is left behind
        for tmp in tmps:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            # a rename failing after others (seldom: every path was checked first) is said as it is
            done = f"the files before it ({replaced}) were replaced" if replaced else "nothing was replaced"
            named = paths[targets.index(target)]  # as the user gave it
            raise FileWriteError(f"cannot write {named}: {describe_os_error(e)}; {done}") from None
        raise
    return paths
