"""R's workflow verbs over fitted models: ``update`` (with ``update.formula``),
``drop1``/``add1``, and ``AIC``/``BIC`` of several fits (one module each)."""

from __future__ import annotations

from .add1 import add1  # noqa: F401
from .drop1 import drop1  # noqa: F401
from .formula_update import update_formula  # noqa: F401
from .information import InformationTable  # noqa: F401
from .step import step  # noqa: F401
from .update import update  # noqa: F401
