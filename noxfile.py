"""Developer sessions. `nox -l` lists them; `nox` runs the default ones (tests, lint)."""

import nox

nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite (unit, snapshots, dialect cross-check, data tests, emulator, browser)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the code."""
    session.install("ruff")
    session.run("ruff", "check", "ecom", "marts", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "ecom", "marts", "tests", "benchmarks", "noxfile.py")


@nox.session
def demo(session: nox.Session) -> None:
    """Generate synthetic data, build every model on DuckDB, run the data tests, print a summary."""
    session.install("-e", ".")
    path = session.create_tmp() + "/demo.duckdb"
    session.run("ecom", "generate", "--scale", "0.1", "--path", path)
    session.run("ecom", "build", "--path", path)
    session.run("ecom", "test", "--path", path)
    session.run("ecom", "report", "--path", path, "--out", session.create_tmp() + "/report.html")


@nox.session(default=False)
def benchmark(session: nox.Session) -> None:
    """Generation and build benchmarks at scale 1 (`-- --scale 10`: scale 10 against scale 1). Prints figures."""
    session.install("-e", ".")
    session.run("bash", "benchmarks/install-dbt.sh", external=True)  # dbt run, the build's third contender
    session.run("python", "benchmarks/bench_generate.py", *session.posargs)
    session.run("python", "benchmarks/bench_build.py", *session.posargs)
    session.run("python", "benchmarks/bench_incremental.py", *session.posargs)
