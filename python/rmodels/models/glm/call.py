"""The printed call of a glm / glm.nb fit: R's ``match.call()`` as ``print.glm`` shows it.

The arguments are listed in the order of the function's formals and deparsed with R's line
breaks by :func:`rmodels.formula.call.deparse_call_text`.
"""

from __future__ import annotations

from typing import Any, Optional

from ... import printing as rf
from ...formula.call import deparse_call_text
from ..families import Family

__all__ = ["glm_call_text", "glm_nb_call_text"]


def call_argument(value: Any, name: str) -> Optional[str]:
    """How an argument shows in the call: a column name as itself, an array under the
    argument's own name (R shows the variable the user passed), None when not given."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return name


def glm_call_text(formula: str, fam: Family | None, data_name: str, weights: Any, subset: Any,
                  offset: Any, start: Any, etastart: Any, mustart: Any, control: Optional[dict],
                  na_action: str, contrasts: Optional[dict] = None) -> str:
    """``glm(formula = , family = , data = , weights = , subset = , na.action = , start = ,
    etastart = , mustart = , offset = , control = , contrasts = )``, the arguments given."""
    args: list[tuple[str, str]] = [("formula", formula)]
    if fam is not None:
        args.append(("family", fam.call_text))
    args.append(("data", data_name))
    for name, v in (("weights", weights), ("subset", subset)):
        s = call_argument(v, name)
        if s is not None:
            args.append((name, s))
    if na_action != "omit":
        args.append(("na.action", f"na.{na_action}"))
    if start is not None:
        args.append(("start", "start"))
    for name, v in (("etastart", etastart), ("mustart", mustart), ("offset", offset)):
        s = call_argument(v, name)
        if s is not None:
            args.append((name, s))
    if control:
        args.append(("control", "control"))
    if contrasts:
        items = ", ".join(f'{k} = "{v}"' if isinstance(v, str) else f"{k} = {k}"
                          for k, v in contrasts.items())
        args.append(("contrasts", f"list({items})"))
    return deparse_call_text("glm", args)


def glm_nb_call_text(formula: str, data_name: str, weights: Any, link: str, link_given: bool,
                     theta: float) -> str:
    """glm.nb's call: ``glm.nb(formula = , data = , weights = , init.theta = , link = )``.
    glm.nb sets ``Call$init.theta`` (appended) then ``Call$link`` (in place when the user gave
    it)."""
    args: list[tuple[str, str]] = [("formula", formula), ("data", data_name)]
    if isinstance(weights, str):
        args.append(("weights", weights))
    theta_arg = ("init.theta", f"{float(rf.signif(theta, 10)):.15g}")
    args += [("link", link), theta_arg] if link_given else [theta_arg, ("link", link)]
    return deparse_call_text("glm.nb", args)
