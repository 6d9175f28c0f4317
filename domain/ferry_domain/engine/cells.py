"""Cell text for files people open in spreadsheets (exports, rejected rows).

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
runs as a formula in Excel, LibreOffice or Google Sheets (CSV injection);
such text gets a leading quote, which the spreadsheet shows as text.
"""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(text: str) -> str:
    """Prefix a quote to text a spreadsheet would run as a formula."""
    if text and text[0] in _FORMULA_START:
        return "'" + text
    return text
