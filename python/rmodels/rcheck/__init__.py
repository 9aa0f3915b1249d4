"""One call that proves a fit against R: :func:`compare_with_r` refits the same model in R
through rpy2 (extra ``rmodels[r]``) and sets every quantity side by side. rpy2 is imported
only when the comparison runs."""

from __future__ import annotations

from .compare import compare_with_r  # noqa: F401

__all__ = ["compare_with_r"]
