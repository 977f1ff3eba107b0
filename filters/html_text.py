"""HTML parts to one plain-text representation (CHATHAM_HOUSE.md §2.4).

INTERFACE STUB — to be implemented. Other modules code against these names.
"""

from __future__ import annotations


def html_to_text(html: str) -> str:
    raise NotImplementedError
