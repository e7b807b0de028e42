"""Data out: the HTML report and the documentation catalog, read from built models."""
