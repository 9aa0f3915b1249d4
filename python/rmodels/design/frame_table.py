"""design, frame table: R's model frame of the kept rows as a pandas DataFrame (what
``model.frame()`` returns): factors as Categoricals, logicals as nullable booleans, character
variables as strings, matrix variables split into columns ``poly(x, 2).1`` … as R's
``as.data.frame`` names them, then ``(weights)`` and ``(offset)``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..frame import Factor, Mat


def _frame_column(v):
    """One non-matrix frame variable as a DataFrame column."""
    if isinstance(v, Factor):
        if v.kind == "logical":
            return pd.array(np.where(v.codes < 0, None, v.codes == 1), dtype="boolean")
        if v.kind == "character":
            return pd.Series(v.labels(), dtype=object).to_numpy()
        return pd.Categorical.from_codes(v.codes, categories=list(v.levels), ordered=v.ordered)
    return np.asarray(v, dtype=float)


def model_frame_table(vals: list, flabels: list, resp, row_names, w, o) -> pd.DataFrame:
    """The model frame of variables ``vals`` labelled ``flabels``, indexed by ``row_names``,
    with the ``(weights)`` ``w`` and ``(offset)`` ``o`` columns when given."""
    cols: dict = {}
    for i, v in enumerate(vals):
        lab = flabels[i]
        if isinstance(v, Mat):
            k = v.values.shape[1]
            if k == 1:
                cols[lab] = v.values[:, 0]
            else:
                for j in range(k):
                    cn = v.colnames[j] if v.colnames and v.colnames[j] else str(j + 1)
                    cols[f"{lab}.{cn}"] = v.values[:, j]
        else:
            cols[lab] = _frame_column(v)
    if w is not None:
        cols["(weights)"] = w
    if o is not None:
        cols["(offset)"] = o
    df = pd.DataFrame(cols)
    df.index = row_names if isinstance(row_names, pd.Index) else pd.Index(row_names)
    return df
