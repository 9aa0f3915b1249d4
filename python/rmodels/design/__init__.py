"""design: the model matrix, contrasts and the stored model spec that encodes new data.

Modules: ``model_matrix`` (``build_design``/``Design``, R's ``model.frame`` +
``model.matrix``; the public ``model_matrix`` and ``model_frame``), ``coding`` (contrasts or
indicators per term, column names, ``assign``), ``fill`` (the compiled column fill),
``spec`` (``ModelSpec``: new data encoded as the training data), ``frame_table`` (R's model
frame as a DataFrame). The contrast matrices themselves (``contr.treatment`` …) are computed in
``frame.transforms.contrasts``, because the frame's interpreter evaluates ``C(f, contr.sum)``.
"""

from __future__ import annotations

from .coding import Coding, contrast_for
from .model_matrix import (
    Design,
    build_design,
    model_frame,
    model_matrix,
    r_row_names,
    subset_positions,
)
from .spec import ModelSpec

__all__ = [
    "Coding",
    "Design",
    "ModelSpec",
    "build_design",
    "contrast_for",
    "model_frame",
    "model_matrix",
    "r_row_names",
    "subset_positions",
]
