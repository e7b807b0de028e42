"""No IP address or e-mail address in any model (issue 14 item 9, docs/contract.md#staging).

Raw events carry IP addresses and raw users e-mail addresses; staging drops the e-mails and turns the
IPs into a salted hash (stg_events.ip_hash), so no built model may hold either in a string column.
Scanned on generated data (`ecom generate --scale 0.01`) and on the thelook sample beside the project
(`ecom load`, skipped when the folder is absent), each built with `ecom build`. The patterns are
shown to find what they look for in the raw tables of the same database, so the scan cannot pass
because it matches nothing.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core.registry import Project
from ecom.targets.duckdb import DuckDBTarget
from tests.conftest import THELOOK_SAMPLE

# RE2 (DuckDB regexp_matches). Dotted quads of 1-3 digits; IPv6 as hex groups of up to 4 digits with
# 2 to 7 colons (full or compressed: 2001:db8::1, ::ffff:c000:280), with no boundary so that
# 'a' || address is caught; deliberately loose (it would flag "10:00:00" too: no model has times as
# strings); addresses like name@host.tld.
PATTERNS = {
    "IPv4": r"(^|[^0-9])[0-9]{1,3}(\.[0-9]{1,3}){3}([^0-9]|$)",
    "IPv6": r"(?i)([0-9a-f]{0,4}:){2,7}[0-9a-f]{1,4}",
    "e-mail": r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",
}

runner = CliRunner()


def matches(con, pattern: str, text: str) -> bool:
    return con.execute("SELECT regexp_matches(?, ?)", [text, pattern]).fetchone()[0]


def test_patterns_find_what_they_look_for():
    con = DuckDBTarget(":memory:").con.con
    for text in ("10.0.0.1", "a203.0.113.9-1", "from 1.2.3.4."):
        assert matches(con, PATTERNS["IPv4"], text), text
    for text in ("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "a2001:db8::1-2", "fe80::1", "::ffff:c000:0280"):
        assert matches(con, PATTERNS["IPv6"], text), text
    for text in ("ann@example.com", "x a.b+c@mail.example.co.uk y"):
        assert matches(con, PATTERNS["e-mail"], text), text
    # What the models do hold: hashed visitors, session ids, URIs, names, SKUs.
    for text in ("a1f8a55ea9b0bc29e-3", "u42-1", "/product/12345", "Levi's 501", "SKU-1.2", "e7-1"):
        assert not any(matches(con, p, text) for p in PATTERNS.values()), text


def leaks(target: DuckDBTarget, schema: str, table: str) -> dict[str, int]:
    """Rows of schema.table whose string columns match each pattern (only the non-zero counts)."""
    columns = [
        name
        for name, dtype in target.con.con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
        if dtype == "VARCHAR"
    ]
    found = {}
    for label, pattern in PATTERNS.items():
        for column in columns:
            n = target.con.con.execute(
                f'SELECT count(*) FROM {schema}."{table}" WHERE regexp_matches("{column}", ?)', [pattern]
            ).fetchone()[0]
            if n:
                found[f"{column} {label}"] = n
    return found


def build(path, first_step: list[str]) -> DuckDBTarget:
    for args in (first_step, ["build"]):
        result = runner.invoke(app, [*args, "--path", str(path)])
        assert result.exit_code == 0, result.output
    return DuckDBTarget(path)


@pytest.fixture(scope="module", params=["generated", "thelook-sample"])
def built(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("pii") / "ecom.duckdb"
    if request.param == "generated":
        target = build(path, ["generate", "--scale", "0.01", "--seed", "11"])
    else:
        if not (THELOOK_SAMPLE / "orders.parquet").exists():
            pytest.skip(f"{THELOOK_SAMPLE} is not here")
        target = build(path, ["load", str(THELOOK_SAMPLE)])
    yield target
    target.close()


def test_raw_data_has_what_the_scan_looks_for(built):
    # The negative control: the same scan finds the raw IP and e-mail addresses.
    assert leaks(built, "raw", "events").get("ip_address IPv4", 0) > 0
    assert leaks(built, "raw", "users").get("email e-mail", 0) > 0


@pytest.mark.parametrize("name", Project.load().order)
def test_no_ip_or_email_address_in_any_model(built, name):
    assert leaks(built, "main", name) == {}
