"""Design: the model matrix, contrasts and the stored model spec that encodes new data."""

from __future__ import annotations

from .model_matrix import (  # noqa: F401
    Design,
    build_design,
    model_frame,
    model_matrix,
    r_row_names,
    subset_positions,
)
