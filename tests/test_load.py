"""`ecom load` (ecom.data.load.read_folder): a user's export read into the contract, or refused whole.

Every folder here is written in tmp_path (never the shared thelook sample): a minimal valid export
(one row per table), then one defect at a time.
"""

from __future__ import annotations

import datetime as dt
import shutil
from contextlib import closing
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from ecom.cli import app
from ecom.core.sources import MADE_BY_SPEND, RAW_SCHEMAS, SourceContractError, check_schema
from ecom.data.load import read_folder
from ecom.targets.duckdb import DuckDBTarget

UTC = dt.UTC
T0 = dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)

ROWS = {
    "orders": dict(
        order_id=1,
        user_id=1,
        status="Complete",
        gender="F",
        created_at=T0,
        returned_at=None,
        shipped_at=T0 + dt.timedelta(days=1),
        delivered_at=T0 + dt.timedelta(days=2),
        num_of_item=1,
    ),
    "order_items": dict(
        id=1,
        order_id=1,
        user_id=1,
        product_id=1,
        inventory_item_id=1,
        status="Complete",
        created_at=T0,
        shipped_at=T0 + dt.timedelta(days=1),
        delivered_at=T0 + dt.timedelta(days=2),
        returned_at=None,
        sale_price=10.5,
    ),
    "products": dict(
        id=1,
        cost=4.0,
        category="Jeans",
        name="Blue Jean",
        brand="Levi's",
        retail_price=10.5,
        department="Women",
        sku="ABC",
        distribution_center_id=1,
    ),
    "users": dict(
        id=1,
        first_name="Ann",
        last_name="Lee",
        email="a@example.com",
        age=30,
        gender="F",
        state="CA",
        street_address="1 Main St",
        postal_code="90001",
        city="Los Angeles",
        country="United States",
        latitude=34.0,
        longitude=-118.2,
        traffic_source="Search",
        created_at=T0 - dt.timedelta(days=9),
    ),
    "events": dict(
        id=1,
        user_id=1,
        sequence_number=1,
        session_id="s1",
        created_at=T0 - dt.timedelta(minutes=5),
        ip_address="1.2.3.4",
        city="Los Angeles",
        state="CA",
        postal_code="90001",
        browser="Chrome",
        traffic_source="Email",
        uri="/home",
        event_type="home",
    ),
    "inventory_items": dict(
        id=1,
        product_id=1,
        created_at=T0 - dt.timedelta(days=30),
        sold_at=T0,
        cost=4.0,
        product_category="Jeans",
        product_name="Blue Jean",
        product_brand="Levi's",
        product_retail_price=10.5,
        product_department="Women",
        product_sku="ABC",
        product_distribution_center_id=1,
    ),
    "distribution_centers": dict(id=1, name="Memphis TN", latitude=35.1, longitude=-89.9),
    "marketing_spend": dict(
        date=dt.date(2024, 1, 1), campaign_id="c1", platform="Email", spend=3.5, clicks=7, impressions=100
    ),
}


def contract_table(name: str, rows: list[dict] | None = None) -> pa.Table:
    return pa.Table.from_pylist(rows or [ROWS[name]], schema=RAW_SCHEMAS[name].to_pyarrow())


def write_parquet_folder(folder, **replace: pa.Table):
    folder.mkdir(parents=True, exist_ok=True)
    for name in RAW_SCHEMAS:
        pq.write_table(replace.get(name, contract_table(name)), folder / f"{name}.parquet")
    return folder


def write_csv_folder(folder):
    """The valid export as CSV: timestamps like `2024-01-01 10:00:00`, NULL as an empty field."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in RAW_SCHEMAS:
        table = contract_table(name)
        for i, f in enumerate(table.schema):
            if pa.types.is_timestamp(f.type):
                text = [None if v is None else v.strftime("%Y-%m-%d %H:%M:%S") for v in table.column(i).to_pylist()]
                table = table.set_column(i, f.name, pa.array(text, pa.string()))
        pacsv.write_csv(table, folder / f"{name}.csv")
    return folder


def problems_of(folder) -> str:
    with pytest.raises(SourceContractError) as e:
        read_folder(folder)
    return str(e.value)


def test_valid_parquet_and_csv_folders_read_identically(tmp_path):
    from_parquet = read_folder(write_parquet_folder(tmp_path / "pq"))
    from_csv = read_folder(write_csv_folder(tmp_path / "csv"))
    for name in RAW_SCHEMAS:
        assert from_parquet[name].schema == RAW_SCHEMAS[name].to_pyarrow(), name
        assert from_parquet[name].equals(contract_table(name)), name
        assert from_csv[name].equals(contract_table(name)), name


def test_extra_columns_and_other_widths_are_accepted(tmp_path):
    orders = contract_table("orders")
    orders = orders.append_column("note", pa.array(["extra"]))  # an extra column is ignored
    orders = orders.set_column(0, "order_id", pa.array([1], pa.int32()))  # any integer width
    products = contract_table("products").set_column(1, "cost", pa.array([4.0], pa.float32()))
    tables = read_folder(write_parquet_folder(tmp_path, orders=orders, products=products))
    assert tables["orders"].equals(contract_table("orders"))
    assert tables["products"].equals(contract_table("products"))


def test_naive_and_nanosecond_timestamps_read_as_utc_microseconds(tmp_path):
    orders = contract_table("orders")
    # naive nanoseconds (a Spark/INT96-style export): read as UTC, digits below the microsecond dropped
    ns = pa.array([1_704_103_200_123_456_789], pa.timestamp("ns"))  # 2024-01-01 10:00:00.123456789
    orders = orders.set_column(orders.schema.get_field_index("created_at"), "created_at", ns)
    # zoned seconds in another zone: the same instant
    paris = pa.array([1_704_189_600], pa.timestamp("s", tz="Europe/Paris"))  # 2024-01-02 10:00:00 UTC
    orders = orders.set_column(orders.schema.get_field_index("shipped_at"), "shipped_at", paris)
    # naive milliseconds
    ms = pa.array([1_704_276_000_500], pa.timestamp("ms"))  # 2024-01-03 10:00:00.500
    orders = orders.set_column(orders.schema.get_field_index("delivered_at"), "delivered_at", ms)
    read = read_folder(write_parquet_folder(tmp_path, orders=orders))["orders"]
    assert read.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    row = read.to_pylist()[0]
    assert row["created_at"] == dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert row["shipped_at"] == dt.datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert row["delivered_at"] == dt.datetime(2024, 1, 3, 10, 0, 0, 500000, tzinfo=UTC)


CSV_TIMESTAMPS = [
    ("2024-01-01T10:00:00Z", dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
    ("2024-01-01 10:00:00+00:00", dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
    ("2024-01-01 10:00:00+0000", dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
    ("2024-01-01 10:00:00 UTC", dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),
    ("2024-01-01 10:00:00", dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC)),  # naive: UTC
    ("2024-01-01T10:00:00.5Z", dt.datetime(2024, 1, 1, 10, 0, 0, 500000, tzinfo=UTC)),
    ("2024-01-01 10:00:00.123456", dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),
    ("2024-01-01T10:00:00.123456789Z", dt.datetime(2024, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)),  # truncated
    ("2024-01-01 12:30:00+02:00", dt.datetime(2024, 1, 1, 10, 30, tzinfo=UTC)),  # 12:30 at +2 = 10:30 UTC
    ("2024-01-01", dt.datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),  # a bare date: midnight UTC
    ("", None),  # empty field: NULL
]


def test_csv_timestamps_in_every_iso_form(tmp_path):
    folder = write_csv_folder(tmp_path)
    lines = ["order_id,user_id,status,gender,created_at,returned_at,shipped_at,delivered_at,num_of_item"]
    lines += [f"{i},1,Processing,F,{text},,,,1" for i, (text, _) in enumerate(CSV_TIMESTAMPS, 1)]
    (folder / "orders.csv").write_text("\n".join(lines) + "\n")
    read = read_folder(folder)["orders"]
    assert read.schema == RAW_SCHEMAS["orders"].to_pyarrow()
    assert read.column("created_at").to_pylist() == [expected for _, expected in CSV_TIMESTAMPS]
    assert read.column("shipped_at").null_count == len(CSV_TIMESTAMPS)


def test_missing_table_and_missing_column_are_all_listed(tmp_path):
    folder = write_parquet_folder(tmp_path, users=contract_table("users").drop_columns(["age", "created_at"]))
    (folder / "events.parquet").unlink()
    message = problems_of(folder)
    assert "3 problems" in message
    assert "events: expected a single file events.parquet or events.csv, found none" in message
    assert "users.age: expected int64, found no such column" in message
    assert "users.created_at: expected timestamp('UTC'), found no such column" in message


def test_wrong_types_in_parquet_are_all_listed(tmp_path):
    orders = contract_table("orders")
    orders = orders.set_column(4, "created_at", pa.array(["2024-01-01 10:00:00"]))  # text, not a timestamp
    spend = contract_table("marketing_spend").set_column(0, "date", pa.array(["2024-01-01"]))
    items = contract_table("order_items").set_column(10, "sale_price", pa.array(["10.5"]))
    message = problems_of(write_parquet_folder(tmp_path, orders=orders, marketing_spend=spend, order_items=items))
    assert "3 problems" in message
    assert "orders.created_at: expected timestamp('UTC'), found string" in message
    assert "marketing_spend.date: expected date, found string" in message
    assert "order_items.sale_price: expected float64, found string" in message


def test_bad_csv_values_name_column_and_value(tmp_path):
    folder = write_csv_folder(tmp_path)
    (folder / "orders.csv").write_text(
        "order_id,user_id,status,gender,created_at,returned_at,shipped_at,delivered_at,num_of_item\n"
        "1,1,Processing,F,2024-01-01 10:00:00,,,,1\n"
        "x2,1,Processing,F,yesterday,,,,1.5\n"
    )
    message = problems_of(folder)
    assert "3 problems" in message
    assert "orders.order_id: expected int64, found text 'x2'" in message
    assert "orders.created_at: expected timestamp('UTC'), found text 'yesterday'" in message
    assert "orders.num_of_item: expected int64, found text '1.5'" in message


def test_unreadable_files_are_reported(tmp_path):
    folder = write_parquet_folder(tmp_path)
    (folder / "products.parquet").write_bytes(b"\x00garbage, not parquet\xff" * 10)
    (folder / "users.parquet").write_bytes(b"")
    message = problems_of(folder)
    assert "products: expected a readable parquet file, found products.parquet:" in message
    assert "users: expected a readable parquet file, found users.parquet:" in message


def test_not_a_folder(tmp_path):
    with pytest.raises(SourceContractError, match="is not a folder"):
        read_folder(tmp_path / "nowhere")


def test_loaded_tables_satisfy_the_contract_in_duckdb(tmp_path):
    target = DuckDBTarget(tmp_path / "x.duckdb")
    counts = target.write_raw(read_folder(write_csv_folder(tmp_path / "csv")))
    assert counts == dict.fromkeys(RAW_SCHEMAS, 1)
    for name in RAW_SCHEMAS:
        assert check_schema(name, target.raw_schema(name)) == [], name
    target.close()


runner = CliRunner()


@pytest.mark.parametrize("defect", ["missing_table", "wrong_type", "garbage", "bad_csv_value", "two_files"])
def test_cli_load_of_a_bad_folder_writes_nothing(tmp_path, defect):
    db = tmp_path / "ecom.duckdb"
    good = write_parquet_folder(tmp_path / "good")
    assert runner.invoke(app, ["load", str(good), "--path", str(db)]).exit_code == 0
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    # the bad folder also holds otherwise-valid, different orders: none of them may land
    pq.write_table(contract_table("orders", [{**ROWS["orders"], "order_id": 99}]), bad / "orders.parquet")
    if defect == "missing_table":
        (bad / "events.parquet").unlink()
    elif defect == "wrong_type":
        pq.write_table(contract_table("users").set_column(4, "age", pa.array(["30"])), bad / "users.parquet")
    elif defect == "garbage":
        (bad / "products.parquet").write_bytes(b"PAR1 not really")
    elif defect == "bad_csv_value":
        (bad / "users.parquet").unlink()
        (bad / "users.csv").write_text("id,age\nx,1\n")
    else:  # a valid CSV beside the valid Parquet: which is the current export?
        shutil.copy(write_csv_folder(tmp_path / "csv") / "users.csv", bad / "users.csv")
    result = runner.invoke(app, ["load", str(bad), "--path", str(db)])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert "does not match the source contract" in lines[0]
    assert lines[-1] == "Fix the export and load it again; nothing was loaded."
    if defect == "missing_table":
        assert lines[0] == f"error: The raw data in {bad} does not match the source contract (1 problem):"
    target = DuckDBTarget(db)
    assert target.source("orders").to_pyarrow().equals(contract_table("orders"))  # still order 1
    target.close()


def test_the_load_summary_names_folder_and_database_on_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)  # no terminal: a log's width (ecom.cli.LOG_WIDTH)
    # a name in brackets, which rich read as markup: "export[final]" printed as "export"
    monkeypatch.chdir(tmp_path)  # relative names: a title within the log's width wherever tmp_path is
    folder, db = write_parquet_folder(Path("export[final]")), Path("[red]ecom.duckdb")
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 0
    # rich wrapped a title to its table's width: three centred pieces over two narrow columns
    assert result.stdout.splitlines()[0] == f"Loaded {folder} into duckdb raw in {db}"


def test_two_files_of_one_table_are_named(tmp_path):
    folder = write_parquet_folder(tmp_path)
    shutil.copy(write_csv_folder(tmp_path / "csv") / "orders.csv", folder / "orders.csv")
    expected = "orders: expected a single file orders.parquet or orders.csv, found orders.parquet and orders.csv"
    assert expected in " ".join(problems_of(folder).split())


def test_files_named_nearly_as_a_table_are_named_beside_found_none(tmp_path):
    """ORDERS.CSV (an export from a Windows tool), order.csv, a compressed users.csv.gz: "found none"
    alone, on a file system whose names are exact; a misnamed marketing_spend was left out unsaid.
    Another table's file (order_items.csv beside orders) is not a near miss."""
    folder = write_csv_folder(tmp_path)
    (folder / "orders.csv").rename(folder / "ORDERS.CSV")
    (folder / "events.csv").rename(folder / "event.csv")
    shutil.copy(folder / "users.csv", folder / "Users.csv")
    (folder / "users.csv").rename(folder / "users.csv.gz")  # not really compressed: only its name is read here
    (folder / "marketing_spend.csv").rename(folder / "marketing_spend.CSV")
    (folder / "orders").mkdir()  # a folder (a partitioned export) is not named as a file to rename
    message = " ".join(problems_of(folder).split())
    must = "the name must be exactly one of these"
    assert "4 problems" in message
    for table, there in [
        ("orders", "ORDERS.CSV is there"),
        ("events", "event.csv is there"),
        ("users", "Users.csv and users.csv.gz are there"),
        ("marketing_spend", "marketing_spend.CSV is there"),
    ]:
        expected = f"{table}: expected a single file {table}.parquet or {table}.csv, found none ({there}: {must})"
        assert expected in message


def test_a_backup_of_marketing_spend_does_not_stop_a_load_without_it(tmp_path):
    """marketing_spend may be left out: a backup of one (or a folder of old ones) beside the export
    was taken for a misnamed spend file, refusing the whole load."""
    folder = write_csv_folder(tmp_path)
    (folder / "marketing_spend.csv").rename(folder / "marketing_spend.csv.bak")
    (folder / "Marketing_Spend").mkdir()
    assert "marketing_spend" not in read_folder(folder)


@pytest.mark.parametrize(("separator", "shown"), [(";", "';'"), ("\t", "'\\t'")])
def test_a_csv_separated_by_another_character_is_named_so(tmp_path, separator, shown):
    """A spreadsheet saved with a European locale's ';' (or as tab-separated) read as one column:
    each of the table's nine columns was "found no such column". A column name holding another of the
    separators (here `;` and `|`) does not decide: the one most used does."""
    folder = write_csv_folder(tmp_path)
    path = folder / "orders.csv"
    path.write_text(path.read_text().replace(",", separator).replace("num_of_item", "num_of_item;|note", 1))
    message = " ".join(problems_of(folder).split())
    assert "1 problem" in message and "no such column" not in message
    assert (
        f"orders: expected a readable csv file, found orders.csv: its columns are separated by {shown}, not commas: "
        "save it as comma-separated"
    ) in message


def test_an_empty_file_does_not_empty_a_table_unless_asked(tmp_path):
    db = tmp_path / "ecom.duckdb"
    assert runner.invoke(app, ["load", str(write_parquet_folder(tmp_path / "good")), "--path", str(db)]).exit_code == 0
    empty = {name: contract_table(name).slice(0, 0) for name in ("orders", "marketing_spend")}
    folder = write_parquet_folder(tmp_path / "empty", **empty)
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 1
    assert " ".join(result.stderr.split()) == (
        "error: the export has no rows for orders (1 row now), marketing_spend (1 row now): loading it would "
        "empty them; check the export, or pass --allow-empty to load it as it is"
    )
    with closing(DuckDBTarget(db)) as target:
        assert target.source("orders").to_pyarrow().equals(contract_table("orders"))
    result = runner.invoke(app, ["load", str(folder), "--path", str(db), "--allow-empty"])
    assert result.exit_code == 0
    # emptied as asked: not warned of as fewer rows; the one item's order 1 is gone with the orders
    assert " ".join(result.stderr.split()) == (
        "warning: order_items: 1 row with no order among the raw orders (order_id NULL or absent): "
        "stg_order_items leaves such items out, so no model counts their revenue; check the export"
    )
    with closing(DuckDBTarget(db)) as target:
        assert target.source("orders").count().execute() == 0
        assert target.source("users").count().execute() == 1


def test_a_table_left_with_fewer_rows_is_warned_about(tmp_path):
    """A morning's export of only the new day's rows: load replaces, it does not append, so the
    raw tables would silently lose their history. Loaded (rows may be deleted on purpose), with a
    warning naming each table that lost rows, its count before and after."""
    db = tmp_path / "ecom.duckdb"
    two_orders = contract_table("orders", [ROWS["orders"], {**ROWS["orders"], "order_id": 2}])
    two_events = contract_table("events", [ROWS["events"], {**ROWS["events"], "id": ROWS["events"]["id"] + 1}])
    history = write_parquet_folder(tmp_path / "history", orders=two_orders, events=two_events)
    assert runner.invoke(app, ["load", str(history), "--path", str(db)]).exit_code == 0
    result = runner.invoke(app, ["load", str(history), "--path", str(db)])  # the same export again: no warning
    assert result.exit_code == 0 and result.stderr == ""
    result = runner.invoke(app, ["load", str(write_parquet_folder(tmp_path / "new_day")), "--path", str(db)])
    assert result.exit_code == 0
    assert " ".join(result.stderr.split()) == (
        "warning: orders has 1 row, 2 before; events has 1 row, 2 before: ecom load replaces each raw table "
        "with its file, it does not append: load an export of every row, not only the new ones"
    )
    with closing(DuckDBTarget(db)) as target:
        assert target.source("orders").count().execute() == 1


def test_replacing_generated_data_by_an_export_is_not_warned_about(tmp_path):
    """README's path: `ecom generate` to try it, then `ecom load` of one's own export. The export
    holding fewer rows than the synthetic tables is no lost history: no warning. Once the export is
    loaded, a smaller one is warned about again."""
    db = tmp_path / "ecom.duckdb"
    assert runner.invoke(app, ["generate", "--scale", "0.002", "--seed", "4", "--path", str(db)]).exit_code == 0
    result = runner.invoke(app, ["load", str(write_parquet_folder(tmp_path / "export")), "--path", str(db)])
    assert result.exit_code == 0 and result.stderr == ""
    with closing(DuckDBTarget(db)) as target:
        assert target.source("orders").count().execute() == 1
    two_orders = contract_table("orders", [ROWS["orders"], {**ROWS["orders"], "order_id": 2}])
    assert (
        runner.invoke(
            app, ["load", str(write_parquet_folder(tmp_path / "two", orders=two_orders)), "--path", str(db)]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["load", str(tmp_path / "export"), "--path", str(db)])
    assert " ".join(result.stderr.split()).startswith("warning: orders has 1 row, 2 before:")


def test_a_raw_view_is_replaced_by_the_loaded_table(tmp_path):
    """A user's raw table may be a view (over their Parquet files): the load failed after reading
    everything, with DuckDB's "Existing object orders is of type View"."""
    db = tmp_path / "ecom.duckdb"
    folder = write_parquet_folder(tmp_path / "good")
    assert runner.invoke(app, ["load", str(folder), "--path", str(db)]).exit_code == 0
    with closing(duckdb.connect(str(db))) as con:
        con.execute("CREATE TABLE main.old_orders AS SELECT * FROM raw.orders WHERE false")
        con.execute("DROP TABLE raw.orders")
        con.execute("CREATE VIEW raw.orders AS SELECT * FROM main.old_orders")
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 0, result.output
    with closing(DuckDBTarget(db)) as target:
        assert target.raw_descriptions() == dict.fromkeys(RAW_SCHEMAS)  # tables, none a view, no comment
        assert target.source("orders").to_pyarrow().equals(contract_table("orders"))


def test_header_only_csv_is_an_empty_table(tmp_path):
    folder = write_csv_folder(tmp_path)
    (folder / "events.csv").write_text(",".join(RAW_SCHEMAS["events"].names) + "\n")
    events = read_folder(folder)["events"]
    assert events.num_rows == 0 and events.schema == RAW_SCHEMAS["events"].to_pyarrow()


def test_csv_whole_numbers_written_as_floats_are_integers(tmp_path):
    """pandas writes an int column holding NULLs as `1.0`: a whole value is accepted, 1.5 is not."""
    folder = write_csv_folder(tmp_path)
    (folder / "marketing_spend.csv").write_text(
        "date,campaign_id,platform,spend,clicks,impressions\n2024-01-01,c1,Email,3.5,7.0,\n2024-01-02,c1,Email,0,,100\n"
    )
    spend = read_folder(folder)["marketing_spend"]
    assert spend.column("clicks").to_pylist() == [7, None]
    assert spend.column("impressions").to_pylist() == [None, 100]
    assert spend.column("date").to_pylist() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2)]


def test_values_that_do_not_fit_are_a_problem_not_a_crash(tmp_path):
    users = contract_table("users")
    users = users.set_column(0, "id", pa.array([2**63 + 5], pa.uint64()))  # an unsigned id beyond int64
    message = problems_of(write_parquet_folder(tmp_path, users=users))
    assert "users: expected values that fit the contract's types, found" in message


def test_csv_text_that_reads_like_null_is_text(tmp_path):
    """Only an empty field is NULL, as in BigQuery's CSV export: thelook has cities named `null`, and a
    brand `NA` or a product `None` is a value, read the same from CSV as from Parquet."""
    folder = write_csv_folder(tmp_path)
    (folder / "users.csv").write_text(
        "id,first_name,last_name,email,age,gender,state,street_address,postal_code,city,country,"
        "latitude,longitude,traffic_source,created_at\n"
        "1,None,NA,a@example.com,30,F,N/A,1 Main St,90001,null,,34.0,-118.2,Search,2023-12-23 10:00:00\n"
    )
    users = read_folder(folder)["users"].to_pylist()[0]
    assert (users["first_name"], users["last_name"], users["state"], users["city"]) == ("None", "NA", "N/A", "null")
    assert users["country"] is None


def test_order_items_of_no_order_in_the_export_are_warned_of_at_load(tmp_path):
    """A broken export's items of no order were loaded in silence (each table is checked alone);
    only the build that followed said their revenue was left out."""
    items = [ROWS["order_items"], {**ROWS["order_items"], "id": 2, "order_id": 7}, {**ROWS["order_items"], "id": 3}]
    items[2]["order_id"] = None
    folder = write_parquet_folder(tmp_path / "export", order_items=contract_table("order_items", items))
    db = tmp_path / "ecom.duckdb"
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 0, result.output
    assert [" ".join(line.split()) for line in result.stderr.splitlines()] == [
        "warning: order_items: 2 rows with no order among the raw orders (order_id NULL or absent): "
        "stg_order_items leaves such items out, so no model counts their revenue; check the export"
    ]
    with closing(duckdb.connect(str(db), read_only=True)) as con:  # loaded all the same: a warning
        assert con.sql("SELECT count(*) FROM raw.order_items").fetchone() == (3,)
    whole = runner.invoke(app, ["load", str(write_parquet_folder(tmp_path / "whole")), "--path", str(db)])
    assert whole.exit_code == 0 and "with no order" not in whole.stderr, whole.output


def test_an_export_without_marketing_spend_loads_and_says_how_to_make_one(tmp_path):
    """thelook has no marketing_spend: its export was refused whole ("marketing_spend: expected a
    single file ..., found none"), and `ecom spend`, which makes one, needs the events loaded first."""
    folder = write_parquet_folder(tmp_path / "thelook")
    (folder / "marketing_spend.parquet").unlink()
    assert MADE_BY_SPEND not in read_folder(folder) and len(read_folder(folder)) == len(RAW_SCHEMAS) - 1
    db = tmp_path / "ecom.duckdb"
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == (
        "marketing_spend is not in the folder (thelook has none): run `ecom spend` to make one from the events"
    )
    built = runner.invoke(app, ["build", "--path", str(db)])
    assert built.exit_code == 1
    assert "marketing_spend: expected a table, found none (`ecom spend` makes one from the raw events)" in built.stderr


def test_an_export_without_marketing_spend_keeps_the_one_loaded(tmp_path):
    db = tmp_path / "ecom.duckdb"
    assert runner.invoke(app, ["load", str(write_parquet_folder(tmp_path / "full")), "--path", str(db)]).exit_code == 0
    folder = write_parquet_folder(
        tmp_path / "thelook", orders=contract_table("orders", [{**ROWS["orders"], "order_id": 2}])
    )
    (folder / "marketing_spend.parquet").unlink()
    result = runner.invoke(app, ["load", str(folder), "--path", str(db)])
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()).endswith(
        "marketing_spend is not in the folder: the one in the target is kept (1 row); "
        "`ecom spend --replace` makes one from the events just loaded"
    )
    with closing(DuckDBTarget(db)) as target:
        assert target.source("orders").order_id.to_pyarrow().to_pylist() == [2]
        assert target.source("marketing_spend").to_pyarrow().equals(contract_table("marketing_spend"))
