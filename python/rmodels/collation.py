"""Sorting character levels as R's ``factor()`` does.

R sorts the unique strings of a character vector with the session's collation. In a UTF-8
locale R uses ICU's root collation (case-insensitive first; lowercase before uppercase on ties;
whitespace, punctuation and symbols before digits before letters; accents secondary). rmodels
follows that rule by default, which matches R under ``LANG=C.UTF-8``/``en_US.UTF-8``; set
``collation="C"`` (see :func:`set_collation`) for R's ``LC_COLLATE=C`` byte order.

The ASCII order below is what R 4.2.2 (ICU root) gives for ``sort()`` of the 94 printable ASCII
characters; other characters are ordered by their Unicode base letter, then accents, then case.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Iterable

_ICU_ASCII = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789"
_PRIMARY = {" ": 1, "\t": 0, "\n": 0, "\r": 0}
for _i, _c in enumerate(_ICU_ASCII):
    _PRIMARY[_c] = 10 + _i
_LETTER_BASE = 1000

_mode = "icu"


def set_collation(mode: str) -> None:
    """Choose how character levels are sorted: ``"icu"`` (R in a UTF-8 locale) or ``"C"``."""
    global _mode
    if mode not in ("icu", "C"):
        raise ValueError("collation must be 'icu' or 'C'")
    _mode = mode
    _icu_key.cache_clear()


def get_collation() -> str:
    return _mode


@lru_cache(maxsize=65536)
def _icu_key(s: str):
    primary, secondary, tertiary = [], [], []
    for ch in s:
        if ch in _PRIMARY:
            primary.append(_PRIMARY[ch])
            secondary.append(0)
            tertiary.append(0)
            continue
        decomp = unicodedata.normalize("NFD", ch)
        base = decomp[0]
        low = base.lower()
        if low.isalpha() or low.isdigit():
            primary.append(_LETTER_BASE + ord(low))
        else:
            primary.append(500 + ord(base))
        secondary.append(sum(ord(c) for c in decomp[1:]))
        tertiary.append(0 if base == low else 1)
    return (tuple(primary), tuple(secondary), tuple(tertiary), s)


def sort_levels(values: Iterable[str]) -> list[str]:
    """Sorted unique strings, as R's ``sort(unique(x))`` under the chosen collation."""
    uniq = set(values)
    if _mode == "C":
        return sorted(uniq, key=lambda s: s.encode("utf-8"))
    return sorted(uniq, key=_icu_key)
