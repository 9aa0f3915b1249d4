"""Shared fixtures. Tests marked ``r`` ask live R; in CI (``CI`` set) a missing R is a failure."""

from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from rbridge import RUnavailable, _r  # noqa: E402


def _r_ok() -> tuple[bool, str]:
    if os.environ.get("RMODELS_NO_R"):  # e.g. make sanitize: R cannot start under ASan
        return False, "RMODELS_NO_R is set"
    try:
        _r()
        return True, ""
    except RUnavailable as exc:
        return False, str(exc)


def pytest_collection_modifyitems(config, items):
    if not any(item.get_closest_marker("r") for item in items):
        return
    ok, why = _r_ok()
    if ok:
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"R is required in CI but unavailable: {why}")
    skip = pytest.mark.skip(reason=f"R unavailable: {why}")
    for item in items:
        if item.get_closest_marker("r"):
            item.add_marker(skip)
