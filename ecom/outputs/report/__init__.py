"""`ecom report`: a self-contained HTML dashboard of the built marts, one page per exposure."""

from ecom.outputs.report.render import ReportError, write_report

__all__ = ["ReportError", "write_report"]
