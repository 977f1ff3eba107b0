"""De-attribution of one decoded text body (CHATHAM_HOUSE.md §2.5).

INTERFACE STUB — to be implemented. Other modules code against these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from filters.flags import Flag
from filters.matching import RegistryMatcher


@dataclass(frozen=True, slots=True)
class ScrubbedText:
    text: str
    flags: tuple[Flag, ...]


def scrub_text(
    text: str,
    matcher: RegistryMatcher,
    participants: Mapping[str, str],
    *,
    where: str = "body",
) -> ScrubbedText:
    raise NotImplementedError
