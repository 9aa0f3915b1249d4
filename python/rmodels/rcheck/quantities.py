"""The quantities compared with R, each computed on both sides under one name: rows
``(quantity, term, value)``. The Python side reads the fit through the package's generics
(``tidy``, ``glance``, ``fitted``, ``residuals``, ``VarCorr``); the R side is R code run on the
refitted object ``fit`` (helpers in :data:`R_HELPERS`)."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

__all__ = ["R_HELPERS", "SUMMARY_TERMS", "coefficient_rows", "scalar_rows", "summary_rows",
           "varcomp_rows", "r_coefficients", "r_summaries", "r_varcomp"]

# R's names of summary(x) for a numeric vector, in R's order.
SUMMARY_TERMS = ["Min.", "1st Qu.", "Median", "Mean", "3rd Qu.", "Max."]

R_HELPERS = """
.rm_q <- function(quantity, v, term = names(v)) {
  force(term)
  v <- as.double(v)
  if (!length(v)) return(NULL)
  if (is.null(term)) term <- rep("", length(v))
  data.frame(quantity = quantity, term = term, value = v, stringsAsFactors = FALSE)
}
.rm_summary <- function(quantity, x) {
  x <- as.double(x); x <- x[!is.na(x)]
  q <- quantile(x, c(0, 0.25, 0.5, 0.75, 1), names = FALSE, type = 7)
  .rm_q(quantity, c(q[1:3], mean(x), q[4:5]),
        c("Min.", "1st Qu.", "Median", "Mean", "3rd Qu.", "Max."))
}
.rm_coefs <- function(cf, tab, cols) {
  at <- match(names(cf), rownames(tab))
  out <- list(.rm_q("estimate", cf))
  for (k in seq_along(cols)) out[[k + 1]] <- .rm_q(cols[k], tab[at, k + 1], names(cf))
  do.call(rbind, out)
}
"""


def r_coefficients(coef_call: str, columns: Iterable[str]) -> str:
    """R code: the estimates ``coef_call`` (``NA`` kept for aliased terms) with the columns 2.. of
    ``coef(summary(fit))`` under broom's names ``columns``."""
    cols = ", ".join(f'"{c}"' for c in columns)
    return f".rm_coefs({coef_call}, coef(summary(fit)), c({cols}))"


def r_summaries(fitted_call: str = "fitted(fit)", resid_call: str = "residuals(fit)") -> str:
    """R code: ``summary()`` of the fitted values and of the default residuals."""
    return f'.rm_summary("fitted", {fitted_call}), .rm_summary("residuals", {resid_call})'


def r_varcomp() -> str:
    """R code: ``as.data.frame(VarCorr(fit))`` as rows ``vcov``/``sdcor`` named
    ``grp var1[,var2]``."""
    return """local({
  vc <- as.data.frame(lme4::VarCorr(fit))
  term <- paste0(vc$grp, ifelse(is.na(vc$var1), "", paste0(" ", vc$var1)),
                 ifelse(is.na(vc$var2), "", paste0(",", vc$var2)))
  rbind(.rm_q("vcov", vc$vcov, term), .rm_q("sdcor", vc$sdcor, term))
})"""


def _rows(quantity: str, terms: Iterable[str], values: Iterable[float]) -> pd.DataFrame:
    terms = [str(t) for t in terms]
    return pd.DataFrame({"quantity": [quantity] * len(terms), "term": terms,
                         "rmodels": np.asarray(list(values), dtype=float)})


def coefficient_rows(tidy: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Rows of broom's coefficient table: ``estimate`` and each of ``columns`` per term."""
    parts = [_rows(c, tidy["term"], tidy[c]) for c in ["estimate", *columns]]
    return pd.concat(parts, ignore_index=True)


def scalar_rows(values: dict) -> pd.DataFrame:
    """One row per named number (term empty)."""
    return pd.DataFrame({"quantity": list(values), "term": [""] * len(values),
                         "rmodels": np.array([float(v) for v in values.values()])})


def summary_rows(quantity: str, x: Any) -> pd.DataFrame:
    """R's ``summary()`` of a numeric vector (NA dropped): quartiles by ``quantile(type = 7)``
    and the mean."""
    v = np.asarray(x, dtype=float)
    v = v[~np.isnan(v)]
    q = np.percentile(v, [0, 25, 50, 75, 100]) if len(v) else np.full(5, np.nan)
    vals = [q[0], q[1], q[2], float(np.mean(v)) if len(v) else np.nan, q[3], q[4]]
    return _rows(quantity, SUMMARY_TERMS, vals)


def _vc_term(grp: Any, var1: Any, var2: Any) -> str:
    t = str(grp)
    if var1 is not None and not (isinstance(var1, float) and np.isnan(var1)):
        t += f" {var1}"
    if var2 is not None and not (isinstance(var2, float) and np.isnan(var2)):
        t += f",{var2}"
    return t


def varcomp_rows(vc: pd.DataFrame) -> pd.DataFrame:
    """``as.data.frame(VarCorr(fit))`` as rows ``vcov``/``sdcor`` named ``grp var1[,var2]``."""
    terms = [_vc_term(g, a, b) for g, a, b in zip(vc["grp"], vc["var1"], vc["var2"])]
    return pd.concat([_rows("vcov", terms, vc["vcov"]), _rows("sdcor", terms, vc["sdcor"])],
                     ignore_index=True)
