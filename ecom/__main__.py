from ecom.cli import app

app(prog_name="ecom")
