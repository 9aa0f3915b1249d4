"""The package's exception and warning classes.

Every failure a user can cause is an :class:`RModelsError`; R's warnings are
:class:`RModelsWarning` subclasses so they can be filtered or turned into errors.
"""

from __future__ import annotations


class RModelsError(Exception):
    """Base class of every error rmodels raises on bad input."""


class FormulaError(RModelsError):
    """A formula that cannot be parsed or expanded.

    ``position`` is the 0-based character offset in ``formula``; ``str()`` shows the
    formula with a caret line under the offending position.
    """

    def __init__(self, message: str, formula: str | None = None, position: int | None = None):
        self.message = message
        self.formula = formula
        self.position = position
        text = message
        if formula is not None and position is not None:
            text = message + "\n" + _caret_lines(formula, position)
        super().__init__(text)


def _caret_lines(formula: str, position: int) -> str:
    """The formula's lines, indented, with a caret line under the one holding ``position``."""
    out = []
    start = 0
    placed = False
    lines = formula.split("\n")
    for k, line in enumerate(lines):
        out.append("  " + line)
        end = start + len(line)
        if not placed and (position <= end or k == len(lines) - 1):
            out.append("  " + " " * (position - start) + "^")
            placed = True
        start = end + 1
    return "\n".join(out)


class DataError(RModelsError):
    """Data that R would refuse (missing column, new factor level, bad weights...)."""


class FitError(RModelsError):
    """A fit that cannot be computed (R's errors from lm.fit, glm.fit, lmer)."""


class RModelsWarning(UserWarning):
    """Base class of R's warnings as rmodels issues them."""


class ConvergenceWarning(RModelsWarning):
    """'glm.fit: algorithm did not converge' and lme4's convergence checks."""


class BoundaryWarning(RModelsWarning):
    """'glm.fit: algorithm stopped at boundary value'."""


class FittedValuesWarning(RModelsWarning):
    """'glm.fit: fitted probabilities numerically 0 or 1 occurred', 'fitted rates numerically 0'.
    """


class SingularFitWarning(RModelsWarning):
    """lme4's 'boundary (singular) fit: see help('isSingular')'."""


class RankDeficiencyWarning(RModelsWarning):
    """Rank-deficient designs (e.g. lme4 dropping columns, 'prediction from rank-deficient fit')."""


class PerfectFitWarning(RModelsWarning):
    """'essentially perfect fit: summary may be unreliable'."""


class FormulaWarning(RModelsWarning):
    """Formula-level warnings R gives (e.g. the response appeared on the right-hand side)."""


class DataWarning(RModelsWarning):
    """Warnings about the data R gives while encoding it (e.g. bs(): 'some 'x' values beyond
    boundary knots may cause ill-conditioned bases', ns()/bs(): ''df' was too small')."""


class PredictionWarning(RModelsWarning):
    """predict()'s warnings on intervals ('predictions on current data refer to _future_
    responses', 'Assuming constant prediction variance even though model fit is weighted')."""


class MissingDependencyError(RModelsError, ImportError):
    """An optional part needs something not installed: rpy2, R or an R package for
    ``compare_with_r`` (extra ``rmodels[r]``), matplotlib for ``plot`` (extra
    ``rmodels[plot]``). The message says what to install."""


class BootstrapWarning(RModelsWarning):
    """The bootstrap's warnings as car/boot give them ('BCa method fails for this problem.
    Using 'perc' instead', 'extreme order statistics used as endpoints')."""
