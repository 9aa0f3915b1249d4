"""R's ``plot.lm`` panels drawn with matplotlib from :mod:`.diagnostics`: 1 residuals vs
fitted, 2 normal Q-Q, 3 scale-location, 4 Cook's distance, 5 residuals vs leverage with Cook's
distance contours 0.5 and 1. Axis limits, captions, labels, lines and the labelled rows are
R's; each artist carries a ``gid`` (``points``, ``smooth``, ``qqline``, ``cook``, ``id``) so
the panel's data can be read back."""

from __future__ import annotations

from typing import Any

import numpy as np

from .axes import R_GRAY8, R_RED, extendrange, label_points, line, points, r_limits
from .diagnostics import LmDiagnostics, largest, qq_line, qq_positions, smooth
from .pretty import pretty

__all__ = ["CAPTIONS", "draw_panel"]

CAPTIONS = {1: "Residuals vs Fitted", 2: "Normal Q-Q", 3: "Scale-Location",
            4: "Cook's distance", 5: "Residuals vs Leverage",
            6: r"Cook's dist vs Leverage* $h_{ii} / (1 - h_{ii})$"}


def _finish(ax: Any, k: int, xlim: tuple, ylim: tuple, xlab: str, ylab: str) -> None:
    ax.set_xlim(*r_limits(*xlim))
    ax.set_ylim(*r_limits(*ylim))
    ax.set_title(CAPTIONS[k], fontsize=10)
    ax.set_xlabel(xlab)
    ax.set_ylabel(ylab)


def _smooth_line(ax: Any, x: np.ndarray, y: np.ndarray, d: LmDiagnostics) -> None:
    sm = smooth(x, y, d.iter_smooth)
    line(ax, sm.x, sm.y, "smooth", color=R_RED)


def _ylab(d: LmDiagnostics) -> str:
    return "Std. Pearson resid." if d.is_glm else "Standardized residuals"


def _xlab(d: LmDiagnostics) -> str:
    return "Predicted values" if d.is_glm else "Fitted values"


def residuals_vs_fitted(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 1: r against ŷ with the lowess smooth and a dotted zero line; labels at the
    ``id_n`` largest |r|."""
    r, yh = d.residuals, d.predicted
    ylim = (np.nanmin(r), np.nanmax(r))
    if id_n > 0:
        ylim = extendrange(*ylim, 0.08)
    points(ax, yh, r)
    _smooth_line(ax, yh, r, d)
    ax.axhline(0.0, linestyle=":", color="gray", linewidth=1.0, gid="zero")
    xlim = (np.nanmin(yh), np.nanmax(yh))
    _finish(ax, 1, xlim, ylim, _xlab(d), "Residuals")
    idx = largest(np.abs(r), id_n)
    label_points(ax, yh[idx], r[idx], [d.labels[i] for i in idx], ax.get_xlim())


def normal_qq(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 2: ``qqnorm(rs)`` with ``qqline(rs)``; labels at the largest |rs|."""
    rs = d.std_residuals
    x = qq_positions(rs)
    lo, hi = np.nanmin(rs), np.nanmax(rs)
    points(ax, x, rs)
    _finish(ax, 2, (np.nanmin(x), np.nanmax(x)), (lo, hi + (hi - lo) * 0.075),
            "Theoretical Quantiles", _ylab(d))
    a, b = qq_line(rs)
    xl = np.array(ax.get_xlim())
    line(ax, xl, a + b * xl, "qqline", color="#7F7F7F", style=":")
    ax.set_xlim(*xl)
    idx = largest(np.abs(rs), id_n)
    label_points(ax, x[idx], rs[idx], [d.labels[i] for i in idx], ax.get_xlim())


def scale_location(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 3: sqrt(|rs|) against ŷ with the smooth; labels at the largest |rs|."""
    yh, sq = d.predicted, np.sqrt(np.abs(d.std_residuals))
    points(ax, yh, sq)
    _smooth_line(ax, yh, sq, d)
    _finish(ax, 3, (np.nanmin(yh), np.nanmax(yh)), (0.0, np.nanmax(sq)), _xlab(d),
            rf"$\sqrt{{|\mathrm{{{_ylab(d).replace(' ', '~')}}}|}}$")
    idx = largest(np.abs(d.std_residuals), id_n)
    label_points(ax, yh[idx], sq[idx], [d.labels[i] for i in idx], ax.get_xlim())


def cooks_distance(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 4: Cook's distance against the observation number (``type = "h"``; with
    ``na_action="exclude"`` the numbers count the excluded rows, as R's padded vector does);
    labels above the largest."""
    cook = d.cooks
    obs = d.obs
    ax.vlines(obs, 0.0, cook, color="black", linewidth=0.8, gid="points")
    idx = largest(cook, id_n)
    ymax = cook[idx[0]] * 1.075 if id_n > 0 else np.nanmax(cook)
    _finish(ax, 4, (1.0, float(d.n_obs)), (0.0, ymax), "Obs. number", "Cook's distance")
    label_points(ax, obs[idx], cook[idx], [d.labels[i] for i in idx], ax.get_xlim(),
                 above=True)


def cook_contours(ax: Any, d: LmDiagnostics, levels: tuple = (0.5, 1.0)) -> None:
    """Cook's distance contours ±sqrt(c·p·(1 − h)/h) over h from min(h₍₁₎, h₍ₙ₎/100) to the
    right edge of the plot (101 points), dashed gray, labelled on the right axis."""
    hmax = np.nanmax(d.hat)
    usr2 = ax.get_xlim()[1]
    hh = np.linspace(min(d.hat_low, hmax / 100), usr2, 101)
    for crit in levels:
        with np.errstate(divide="ignore"):  # h = 0 gives +inf, as in R
            ch = np.sqrt(crit * d.rank * (1 - hh) / hh)
        line(ax, hh, ch, f"cook {crit:g}", color=R_GRAY8, style="--")
        line(ax, hh, -ch, f"cook {crit:g}", color=R_GRAY8, style="--")
    xmax = min(0.99, usr2)
    aty = np.sqrt(np.array(levels)) * np.sqrt(d.rank * (1 - xmax) / xmax)
    right = ax.secondary_yaxis("right")
    right.set_yticks(np.concatenate([-aty[::-1], aty]),
                     labels=[f"{v:g}" for v in list(levels)[::-1] + list(levels)])
    right.tick_params(labelsize=7, colors=R_GRAY8, length=0)
    ax.plot([], [], color=R_GRAY8, linestyle="--", label="Cook's distance")
    ax.legend(loc="lower left", frameon=False, fontsize=8, labelcolor=R_GRAY8)


def residuals_vs_leverage(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 5: rs against the leverage with the smooth, dotted zero lines and Cook's
    contours; labels at the largest Cook's distances."""
    hat, rs = d.hat, d.std_residuals
    hmin, hmax = min(np.nanmin(hat), d.hat_low), np.nanmax(hat)
    if hmax == 0 or (hmax - hmin) < 1e-10 * np.nanmean(hat):
        residuals_vs_factor_levels(ax, d, id_n)
        return
    xx = np.where(hat >= 1, np.nan, hat)
    ylim = (np.nanmin(rs), np.nanmax(rs))
    if id_n > 0:
        ylim = extendrange(*ylim, 0.08)
    points(ax, xx, rs)
    _smooth_line(ax, xx, rs, d)
    ax.axhline(0.0, linestyle=":", color="gray", linewidth=1.0, gid="zero")
    ax.axvline(0.0, linestyle=":", color="gray", linewidth=1.0, gid="zero")
    _finish(ax, 5, (0.0, np.nanmax(xx)), ylim, "Leverage", _ylab(d))
    ylim_now = ax.get_ylim()
    cook_contours(ax, d)
    ax.set_ylim(*ylim_now)
    idx = largest(d.cooks, id_n)
    label_points(ax, xx[idx], rs[idx], [d.labels[i] for i in idx], ax.get_xlim())


def factor_level_positions(d: LmDiagnostics) -> tuple:
    """plot.lm's x for constant leverage: each row's factor level combination numbered with
    the first factor slowest, ``(codes) %*% ff`` with ff = rev(cumprod(c(1, nlev[nf:2])))),
    and ff, nlev."""
    nlev = np.array([len(v) for v in d.xlevels.values()], dtype=float)
    nf = len(nlev)
    ff = np.array([1.0]) if nf == 1 else np.cumprod(np.r_[1.0, nlev[:0:-1]])[::-1]
    return d.factor_codes.astype(float) @ ff, ff, nlev


def residuals_vs_factor_levels(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 5 when every leverage is equal: rs against the factor level combinations, the
    first factor's levels on the axis between gray dashed separators; with no factor, R's
    message as an empty panel."""
    ax.set_title("Constant Leverage:\n Residuals vs Factor Levels", fontsize=10)
    if not d.xlevels:
        ax.set_axis_off()
        ax.text(0.5, 0.5, "hat values (leverages) are all = "
                f"{float(np.nanmean(d.hat)):g}\n and there are no factor predictors; "
                "no plot no. 5", ha="center", va="center", transform=ax.transAxes)
        return
    rs = d.std_residuals
    x, ff, nlev = factor_level_positions(d)
    ylim = (np.nanmin(rs), np.nanmax(rs))
    if id_n > 0:
        ylim = extendrange(*ylim, 0.08)
    for v in ff[0] * np.arange(0, nlev[0] + 1) - 0.5:
        ax.axvline(v, color="gray", linestyle=(0, (4, 4)), linewidth=0.8, gid="separator")
    points(ax, x, rs)
    _smooth_line(ax, x, rs, d)
    ax.axhline(0.0, linestyle=":", color="gray", linewidth=1.0, gid="zero")
    ax.set_xlim(*r_limits(-0.5, float(np.sum((nlev - 1) * ff)) + 0.5))
    ax.set_ylim(*r_limits(*ylim))
    first, levels = next(iter(d.xlevels.items()))
    ax.set_xticks(ff[0] * (np.arange(1, nlev[0] + 1) - 0.5) - 0.5, labels=list(levels))
    ax.set_xlabel(f"{first} :    Factor Level Combinations")
    ax.set_ylabel(_ylab(d))
    idx = largest(d.cooks, id_n)
    label_points(ax, x[idx], rs[idx], [d.labels[i] for i in idx], ax.get_xlim())


def r_paste(v: float) -> str:
    """``paste(v)`` of a double: 15 significant digits, no trailing zeros."""
    return f"{v:.15g}"


def _char_height(ax: Any) -> float:
    """``strheight(" ")`` in data units, approximated by a 10-point line on the axes."""
    fig = ax.get_figure()
    height_in = ax.get_position().height * fig.get_figheight()
    lo, hi = ax.get_ylim()
    return (10 / 72) * (hi - lo) / height_in


def cook_levels(ax: Any, d: LmDiagnostics, g: np.ndarray) -> None:
    """Panel 6's lines of constant Cook's distance: for each b of ``pretty(sqrt(p · cook /
    g))``, ``abline(0, b²)`` when it leaves through the right edge (R draws slope b², its
    label at b²·x/p), else a segment from 0 to height ``ymax − 1.5 strheight`` at slope b²/p;
    each labelled b."""
    p = d.rank
    with np.errstate(divide="ignore", invalid="ignore"):
        bval = pretty(np.sqrt(p * d.cooks / g), 5)
    (xmin, xmax), (ymin, ymax) = ax.get_xlim(), ax.get_ylim()
    ch = _char_height(ax)
    for b in bval:
        bi2 = b * b
        if p * ymax > bi2 * xmax:
            ax.axline((0.0, 0.0), slope=bi2, color="black", linestyle="--", linewidth=0.8,
                      gid=f"cook level {r_paste(b)}")
            ax.annotate(r_paste(b), (xmax, bi2 * xmax / p), xytext=(2, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=8,
                        annotation_clip=False)
        else:
            yi = ymax - 1.5 * ch
            xi = p * yi / bi2
            line(ax, [0.0, xi], [0.0, yi], f"cook level {r_paste(b)}", style="--")
            ax.text(xi, ymax - 0.8 * ch, r_paste(b), ha="center", va="center", fontsize=8)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)


def cooks_vs_leverage(ax: Any, d: LmDiagnostics, id_n: int) -> None:
    """Panel 6: Cook's distance against g = h/(1 − h) (NaN where h = 1) with the smooth, the
    x axis labelled in h at ``pretty(h)``, lines of constant Cook's distance; labels at the
    largest Cook's distances."""
    hat, cook = d.hat, d.cooks
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where(hat >= 1, np.nan, hat / (1 - hat))
    points(ax, g, cook)
    _smooth_line(ax, g, cook, d)
    _finish(ax, 6, (0.0, np.nanmax(g)), (0.0, np.nanmax(cook) * 1.025), r"Leverage  $h_{ii}$",
            "Cook's distance")
    athat = pretty(hat)
    xl = ax.get_xlim()
    ax.set_xticks(athat / (1 - athat), labels=[r_paste(a) for a in athat])
    ax.set_xlim(*xl)
    cook_levels(ax, d, g)
    idx = largest(cook, id_n)
    label_points(ax, g[idx], cook[idx], [d.labels[i] for i in idx], ax.get_xlim())


PANELS = {1: residuals_vs_fitted, 2: normal_qq, 3: scale_location, 4: cooks_distance,
          5: residuals_vs_leverage, 6: cooks_vs_leverage}


def draw_panel(ax: Any, k: int, d: LmDiagnostics, id_n: int) -> None:
    """Draw plot.lm's panel ``k`` (1–6) on ``ax``."""
    PANELS[k](ax, d, id_n)
