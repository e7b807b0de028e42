"""Data out: the HTML report and the documentation catalog, read from built models."""

import json
from typing import Any


def script_json(data: Any) -> str:
    """JSON to embed in a <script> element. Without any "<": "</script>" in a value would end the
    element, and "<!--<script>" (a product or campaign name, say) keep the element's own "</script>"
    from ending it, so that the page's code after it was read as data. NaN is refused: JSON.parse
    takes none."""
    return json.dumps(data, separators=(",", ":"), allow_nan=False).replace("<", "\\u003c")
