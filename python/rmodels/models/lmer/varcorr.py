"""Variance components of an lmer fit (lme4's ``VarCorr.merMod``): per random-effect term the
covariance matrix σ² T Tᵀ of its effects, and the residual standard deviation; printed as
lme4's ``formatVC``, tabled as ``as.data.frame`` and broom.mixed's ``ran_pars`` rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ...printing import format_num, print_matrix, round_r


class VarCorr:
    """Variance components per term (lme4's ``VarCorr.merMod``) and the residual SD."""

    def __init__(self, groups: list, sigma: float, use_sc: bool = True) -> None:
        self.groups = groups  # (name, effect names, covariance matrix)
        self.sigma = sigma
        # lme4's useSc: False for the GLMMs without a scale (binomial, poisson): no residual row
        self.use_sc = use_sc

    def __getitem__(self, name: str) -> pd.DataFrame:
        for g, cn, cov in self.groups:
            if g == name:
                return pd.DataFrame(cov, index=cn, columns=cn)
        raise KeyError(name)

    def as_data_frame(self) -> pd.DataFrame:
        """``as.data.frame(VarCorr(fit))``: ``grp var1 var2 vcov sdcor``."""
        rows = []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i, nm in enumerate(cn):
                rows.append((g, nm, None, cov[i, i], sd[i]))
            for i in range(len(cn)):
                for j in range(i + 1, len(cn)):
                    rows.append((g, cn[i], cn[j], cov[i, j], cov[i, j] / (sd[i] * sd[j])))
        if self.use_sc:
            rows.append(("Residual", None, None, self.sigma**2, self.sigma))
        return pd.DataFrame(rows, columns=["grp", "var1", "var2", "vcov", "sdcor"])

    def tidy(self, scales: str) -> pd.DataFrame:
        """broom.mixed's ``ran_pars`` rows: ``sd__e``/``cor__e1.e2`` per group (``scales =
        "sdcor"``) or ``var__e``/``cov__e1.e2`` (``"vcov"``), then the residual's."""
        rows = []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i in range(len(cn)):
                if scales == "vcov":
                    rows.append(("ran_pars", g, f"var__{cn[i]}", cov[i, i]))
                else:
                    rows.append(("ran_pars", g, f"sd__{cn[i]}", sd[i]))
                for j in range(i + 1, len(cn)):
                    if scales == "vcov":
                        rows.append(("ran_pars", g, f"cov__{cn[i]}.{cn[j]}", cov[i, j]))
                    else:
                        rows.append(("ran_pars", g, f"cor__{cn[i]}.{cn[j]}",
                                     cov[i, j] / (sd[i] * sd[j])))
        last = ("var__Observation", self.sigma**2) if scales == "vcov" else \
            ("sd__Observation", self.sigma)
        if self.use_sc:
            rows.append(("ran_pars", "Residual", last[0], last[1]))
        return pd.DataFrame(rows, columns=["effect", "group", "term", "estimate"])

    def format_vc(self, digits: int, comp: Sequence[str]) -> str:
        """lme4's ``formatVC`` printed with ``quote = FALSE``."""
        sds, names, groups = [], [], []
        for g, cn, cov in self.groups:
            sd = np.sqrt(np.diag(cov))
            for i, nm in enumerate(cn):
                groups.append(g if i == 0 else "")
                names.append(nm)
                sds.append(sd[i])
        if self.use_sc:
            groups.append("Residual")
            names.append("")
            sds.append(self.sigma)
        sds_a = np.asarray(sds)
        colnames = ["Groups", "Name"]
        cols = [groups, names]
        if "Variance" in comp:
            colnames.append("Variance")
            cols.append(format_num(sds_a**2, digits=digits))
        if "Std.Dev." in comp:
            colnames.append("Std.Dev.")
            cols.append(format_num(sds_a, digits=digits))
        nr = len(groups)
        maxlen = max(len(cn) for _, cn, _ in self.groups)
        if maxlen > 1:
            corr_rows = self._correlation_rows(max(2, digits - 2), maxlen)
            corr_rows += [[""] * (maxlen - 1)] * (nr - len(corr_rows))
            for j in range(maxlen - 1):
                colnames.append("Corr" if j == 0 else "")
                cols.append([r[j] for r in corr_rows])
        cells = [[cols[c][i] for c in range(len(cols))] for i in range(nr)]
        return print_matrix(cells, rownames=[""] * nr, colnames=colnames, right=False)

    def _correlation_rows(self, dig: int, maxlen: int) -> list:
        """formatVC's ``Corr`` columns: per effect the correlations with the effects before it
        in its term (``dig`` decimals), padded to ``maxlen - 1`` cells."""
        rows = []
        for _, cn, cov in self.groups:
            k = len(cn)
            sd = np.sqrt(np.diag(cov))
            with np.errstate(invalid="ignore", divide="ignore"):
                cor = cov / np.outer(sd, sd)
            cells = format_num(np.asarray(round_r(cor.ravel(), dig), dtype=float),
                               digits=7, nsmall=dig, nan_is_na=False)
            cm = np.array(cells, dtype=object).reshape(k, k)
            for i in range(k):
                row = [cm[i, j] if j < i else "" for j in range(k)]
                row += [""] * (maxlen - k)
                rows.append(row[: maxlen - 1])
        return rows

    def __str__(self) -> str:
        return self.format_vc(digits=5, comp=("Std.Dev.",))

    def __repr__(self) -> str:
        return str(self)
