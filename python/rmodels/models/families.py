"""GLM family objects, as R's ``binomial()``, ``poisson()``, ``Gamma()`` ... (stats package).

A :class:`Family` names the error distribution (R's ``family$family``), the link (R's
``family$link``) and, for ``quasi``, the variance function. Its element-wise functions
(``linkfun``, ``linkinv``, ``mu_eta``, ``variance``, ``dev_resids``) are the compiled kernels the
IRLS uses (cpp/families.hpp), so Python-side quantities (residuals, predictions) agree with the fit
bit for bit. ``aic`` follows each family's ``family$aic`` in R 4.2.2, with scipy's distribution
functions for the log densities.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import Union

import numpy as np

from .. import _core
from .. import printing as rf
from ..errors import FitError, RModelsWarning
from .family_text import FamilyCall, parse_family

__all__ = [
    "Family", "gaussian", "binomial", "quasibinomial", "poisson", "quasipoisson", "Gamma",
    "inverse_gaussian", "quasi", "power", "as_family", "negative_binomial",
]

_LINKS = ("logit", "probit", "cauchit", "cloglog", "identity", "log", "sqrt", "1/mu^2",
          "inverse")
_QUASI_VARIANCES = ("constant", "mu(1-mu)", "mu", "mu^2", "mu^3")
# Each family's okLinks in R 4.2.2 (the order of its error message); a link outside them is
# accepted only as a string make.link knows.
OK_LINKS = {
    "gaussian": ("inverse", "log", "identity"),
    "binomial": ("logit", "probit", "cloglog", "cauchit", "log"),
    "quasibinomial": ("logit", "probit", "cloglog", "cauchit", "log"),
    "poisson": ("log", "identity", "sqrt"),
    "quasipoisson": ("log", "identity", "sqrt"),
    "Gamma": ("inverse", "log", "identity"),
    "inverse.gaussian": ("inverse", "log", "identity", "1/mu^2"),
    "quasi": _LINKS,
    "negative binomial": ("identity", "log", "sqrt"),  # MASS's negative.binomial
}
# R's families whose dispersion is fixed at 1 (summary.glm: z statistics).
_FIXED_DISPERSION = ("binomial", "poisson")


@dataclass(frozen=True)
class Power:
    """R's ``power(lambda)`` link: eta = mu^lambda (lambda <= 0 is log, 1 is identity)."""

    lam: float

    @property
    def name(self) -> str:
        if self.lam <= 0:
            return "log"
        if self.lam == 1:
            return "identity"
        return "mu^" + _r_round3(self.lam)


def _r_round3(x: float) -> str:
    # paste0("mu^", round(lambda, 3)): as.character of a double (15 significant digits).
    v = round(x, 3)
    s = f"{v:.15g}"
    return s


def power(lam: float = 1.0) -> Power:
    """R's ``power(lambda)`` link object (for :func:`quasi`)."""
    if not isinstance(lam, (int, float)) or math.isnan(lam):
        raise FitError("invalid argument 'lambda'")
    return Power(float(lam))


@dataclass(frozen=True)
class Family:
    """A GLM family: R's ``family$family``, ``family$link`` and (quasi) ``varfun``.

    ``call_text`` is how the family is deparsed in the printed call (``poisson``,
    ``binomial(link = "probit")``).
    """

    family: str
    link: str
    variance_name: str = ""
    lam: float = 1.0
    call_text: str = ""
    theta: float = float("nan")

    @property
    def core_name(self) -> str:
        """The family name the compiled core knows ("negative.binomial" for MASS's family)."""
        return "negative.binomial" if self.family.startswith("Negative Binomial") else self.family

    # ---- element-wise kernels (compiled) ------------------------------------------------
    @cached_property
    def core(self) -> _core.GlmFamily:
        """The compiled family (made once; the fits and the kernels below use it)."""
        return _core.GlmFamily(self.core_name, self.link, self.lam, self.variance_name,
                               self.theta)

    def linkfun(self, mu) -> np.ndarray:
        """g(mu)."""
        return self.core.linkfun(_vector(mu))

    def linkinv(self, eta) -> np.ndarray:
        """g^{-1}(eta) with R's clamps (logit |eta| > 30, probit, cloglog, log >= eps)."""
        return self.core.linkinv(_vector(eta))

    def mu_eta(self, eta) -> np.ndarray:
        """d mu / d eta (R's ``mu.eta``)."""
        return self.core.mu_eta(_vector(eta))

    def variance(self, mu) -> np.ndarray:
        """V(mu)."""
        return self.core.variance(_vector(mu))

    def dev_resids(self, y, mu, wt) -> np.ndarray:
        """Unit deviances times prior weights (R's ``dev.resids``)."""
        y = _vector(y)
        return self.core.dev_resids(y, _vector(mu, y.shape), _vector(wt, y.shape))

    def valid(self, eta, mu) -> tuple[bool, bool]:
        """(valideta(eta), validmu(mu))."""
        return self.core.valid(np.asarray(eta, float), np.asarray(mu, float))

    # ---- properties used by the fit object ----------------------------------------------
    @property
    def fixed_dispersion(self) -> bool:
        """True for binomial and poisson (dispersion 1, z tests)."""
        return self.family in _FIXED_DISPERSION or self.core_name == "negative.binomial"

    @property
    def extra_df(self) -> int:
        """1 if the AIC counts a dispersion parameter (gaussian, Gamma, inverse.gaussian)."""
        if self.core_name == "negative.binomial":
            return 1
        return 1 if self.family in ("gaussian", "Gamma", "inverse.gaussian") else 0

    @property
    def is_quasi(self) -> bool:
        return self.family in ("quasi", "quasibinomial", "quasipoisson")

    def aic(self, y, n, mu, wt, dev: float) -> float:
        """R's ``family$aic(y, n, mu, wt, dev)`` (without the ``+ 2 * rank``); NaN for quasi."""
        from scipy import stats
        from scipy.special import gammaln
        y = np.asarray(y, float)
        mu = np.asarray(mu, float)
        wt = np.asarray(wt, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.family == "gaussian":
                nobs = len(y)
                # np.log: a perfect fit (dev = 0) gives -Inf as in R, not an error
                return float(nobs * (np.log(np.float64(dev) / nobs * 2 * math.pi) + 1) + 2
                             - np.sum(np.log(wt)))
            if self.family in ("binomial", "poisson"):
                # dbinom / dpois by R's saddle-point method, summed in the core.
                val, nonint = _core.glm_count_aic(
                    self.family, np.ascontiguousarray(y),
                    np.ascontiguousarray(np.asarray(n, float) if n is not None
                                         else np.ones(len(y))),
                    np.ascontiguousarray(mu), np.ascontiguousarray(wt))
                for x in nonint[:50]:  # R keeps the first 50 warnings
                    warnings.warn(f"non-integer x = {x:f}", RModelsWarning, stacklevel=4)
                return float(val)
            if self.family == "Gamma":
                nw = np.sum(wt)
                disp = dev / nw
                ll = stats.gamma.logpdf(y, 1 / disp, scale=mu * disp)
                return float(-2 * np.sum(ll * wt) + 2)
            if self.core_name == "negative.binomial":
                th = self.theta
                term = ((y + th) * np.log(mu + th) - y * np.log(mu) + gammaln(y + 1)
                        - th * math.log(th) + gammaln(th) - gammaln(th + y))
                return float(2 * np.sum(term * wt))
            if self.family == "inverse.gaussian":
                sw = np.sum(wt)
                with np.errstate(divide="ignore", invalid="ignore"):  # R: log(0) = -Inf
                    return float(sw * (1 + np.log(dev / sw * 2 * math.pi))
                                 + 3 * np.sum(np.log(y) * wt) + 2)
        return float("nan")

    def __repr__(self) -> str:
        out = f"\nFamily: {self.family} \nLink function: {self.link} \n"
        return out

    __str__ = __repr__


def _vector(a, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """a as a contiguous float64 vector (broadcast to ``shape`` when given)."""
    if shape is None:
        return np.ascontiguousarray(a, dtype=float).ravel()
    return np.ascontiguousarray(np.broadcast_to(np.asarray(a, float), shape))


def link_not_available(link: str, family: str) -> FitError:
    """R's error for a link that is neither one of the family's okLinks nor a string."""
    if family == "negative binomial":  # MASS's wording
        ok = OK_LINKS[family]
        return FitError(f"\"{link}\" link not available for negative binomial family; "
                        "available links are " + ", ".join(f'"{x}"' for x in ok[:-1])
                        + f' and "{ok[-1]}"')
    return FitError(f"link \"{link}\" not available for {family} family; available links are "
                    + ", ".join(f"\u2018{x}\u2019" for x in OK_LINKS[family]))


def _check_link(link, family: str) -> tuple[str, float]:
    if isinstance(link, Power):
        return link.name, link.lam
    if not isinstance(link, str):
        raise link_not_available(str(link), family)
    if link not in _LINKS:
        raise FitError(f"\u2018{link}\u2019 link not recognised")
    return link, 1.0


def _call(name: str, link: str, default: str, extra: str = "") -> str:
    if link == default and not extra:
        return name
    parts = []
    if link != default:
        parts.append(f'link = "{link}"')
    if extra:
        parts.append(extra)
    return f"{name}({', '.join(parts)})"


def gaussian(link: str = "identity") -> Family:
    """R's ``gaussian()``: V(mu) = 1; links identity (default), log, inverse."""
    name, lam = _check_link(link, "gaussian")
    return Family("gaussian", name, "", lam, _call("gaussian", name, "identity"))


def binomial(link: str = "logit") -> Family:
    """R's ``binomial()``: V(mu) = mu(1 - mu); links logit (default), probit, cauchit, log,
    cloglog."""
    name, lam = _check_link(link, "binomial")
    return Family("binomial", name, "", lam, _call("binomial", name, "logit"))


def quasibinomial(link: str = "logit") -> Family:
    """R's ``quasibinomial()``: binomial variance, estimated dispersion, no AIC."""
    name, lam = _check_link(link, "quasibinomial")
    return Family("quasibinomial", name, "", lam, _call("quasibinomial", name, "logit"))


def poisson(link: str = "log") -> Family:
    """R's ``poisson()``: V(mu) = mu; links log (default), identity, sqrt."""
    name, lam = _check_link(link, "poisson")
    return Family("poisson", name, "", lam, _call("poisson", name, "log"))


def quasipoisson(link: str = "log") -> Family:
    """R's ``quasipoisson()``: Poisson variance, estimated dispersion, no AIC."""
    name, lam = _check_link(link, "quasipoisson")
    return Family("quasipoisson", name, "", lam, _call("quasipoisson", name, "log"))


def Gamma(link: str = "inverse") -> Family:  # noqa: N802 - R's name
    """R's ``Gamma()``: V(mu) = mu^2; links inverse (default), identity, log."""
    name, lam = _check_link(link, "Gamma")
    return Family("Gamma", name, "", lam, _call("Gamma", name, "inverse"))


def inverse_gaussian(link: str = "1/mu^2") -> Family:
    """R's ``inverse.gaussian()``: V(mu) = mu^3; links 1/mu^2 (default), inverse, identity, log."""
    name, lam = _check_link(link, "inverse.gaussian")
    return Family("inverse.gaussian", name, "", lam,
                  _call("inverse.gaussian", name, "1/mu^2"))


def quasi(link: Union[str, Power] = "identity", variance: str = "constant") -> Family:
    """R's ``quasi(link, variance)``: variance "constant", "mu(1-mu)", "mu", "mu^2" or "mu^3";
    any of R's links or ``power(lambda)``."""
    name, lam = _check_link(link, "quasi")
    v = variance.replace(" ", "")
    if v not in _QUASI_VARIANCES:
        raise FitError(f"'variance' \"{v}\" is invalid: possible values are \"mu(1-mu)\", "
                       "\"mu\", \"mu^2\", \"mu^3\" and \"constant\"")
    extra = "" if v == "constant" else f'variance = "{v}"'
    if isinstance(link, Power) and name not in ("log", "identity"):
        link_txt = f"power({link.lam:g})"
        parts = [f"link = {link_txt}"] + ([extra] if extra else [])
        call = f"quasi({', '.join(parts)})"
    else:
        call = _call("quasi", name, "identity", extra)
    return Family("quasi", name, v, lam, call)


def negative_binomial(theta: float, link: str = "log") -> Family:
    """MASS's ``negative.binomial(theta)``: V(mu) = mu + mu^2 / theta; links log (default),
    identity, sqrt. Its R family name is ``Negative Binomial(<round(theta, 4)>)``."""
    name, lam = _check_link(link, "negative binomial")
    label = rf.format_num([rf.round_r(float(theta), 4)])[0]
    return Family(f"Negative Binomial({label})", name, "", lam,
                  f"negative.binomial({theta!r})", float(theta))


_BY_NAME = {
    "gaussian": gaussian, "binomial": binomial, "quasibinomial": quasibinomial,
    "poisson": poisson, "quasipoisson": quasipoisson, "Gamma": Gamma,
    "inverse.gaussian": inverse_gaussian, "inverse_gaussian": inverse_gaussian, "quasi": quasi,
}


_FAMILY_FUNCTIONS = dict(_BY_NAME, **{"negative.binomial": negative_binomial})


@cache
def _default_family(name: str) -> Family:
    # a family with its default link, made once per name (Family is frozen; its compiled
    # kernels are bound on first use and shared)
    return _BY_NAME[name]()


def as_family(family: Union[str, Family]) -> Family:
    """A :class:`Family` from an object, R's family name (``"binomial"``, ``"Gamma"`` ...) or
    a family call written in R (``'Gamma(link = "log")'``, ``"poisson(link = log)"``; read by
    the formula parser, never ``eval``: :mod:`.family_text`)."""
    if isinstance(family, Family):
        return family
    if callable(family) and getattr(family, "__name__", "") in {f.__name__ for f in
                                                                 _BY_NAME.values()}:
        return family()
    if isinstance(family, str) and family in _BY_NAME:
        return _default_family(family)
    if isinstance(family, str):
        return family_from_call(parse_family(family))
    raise FitError(f"'family' not recognized: {family!r}")


def family_from_call(call: FamilyCall) -> Family:
    """The family a parsed family call makes, with R's checks: an unquoted link must be one
    of the family's okLinks; the printed call is the call as written."""
    args = dict(call.args)
    ok_key = "negative binomial" if call.name == "negative.binomial" else call.name
    if call.unquoted_link and args["link"] not in OK_LINKS[ok_key]:
        raise link_not_available(args["link"], ok_key)
    if isinstance(args.get("link"), float):
        args["link"] = power(args["link"])
    if call.name == "negative.binomial" and "theta" not in args:
        raise FitError('argument "theta" is missing, with no default')
    fam = _FAMILY_FUNCTIONS[call.name](**args)
    return fam if call.call_text is None else replace(fam, call_text=call.call_text)
