"""frame transforms: R's data-dependent transforms and contrast codings, as the interpreter calls
them while it builds the model frame.

Everything here reproduces an R function to about 1e-12 relative (the tests ask live R):

===========================  ==========================================================
``contrast_matrix``          ``contr.treatment`` / ``contr.SAS`` / ``contr.sum`` /
                             ``contr.helmert`` / ``contr.poly`` and ``contrasts<-`` for a
                             user matrix (stats) — module ``contrasts``
``full_dummy_matrix``        ``contrasts(f, contrasts = FALSE)``: the identity
``poly``                     ``stats::poly`` / ``polym`` (orthogonal or raw polynomials)
``scale``                    ``base::scale`` (centre and scale a column)
``ns`` / ``bs``              ``splines::ns`` / ``splines::bs`` (natural / B-spline bases)
``spline_design``            ``splines::splineDesign`` (B-spline values and derivatives)
``seq_unit``                 ``seq.int(0, 1, length.out = m)`` (quantile(type = 7): printing) —
                             module ``arithmetic``, with R's QR and sums
===========================  ==========================================================

Each data-dependent transform returns its result together with a small frozen *state*
dataclass holding exactly what R's ``makepredictcall`` methods keep in ``predvars``
(``poly``: ``coefs = list(alpha, norm2)``; ``scale``: ``center``, ``scale``; ``ns``/``bs``:
``knots``, ``Boundary.knots``, ``intercept``, ``degree``).  ``state.apply(x_new)`` encodes new
data the way R's ``predict()`` does, i.e. by re-calling the R function with those arguments.

Errors R raises are :class:`~rmodels.errors.DataError` with R's message; R's warnings are
:class:`~rmodels.errors.DataWarning`.

The arithmetic follows R's own step by step — LINPACK ``dqrdc2`` Householder QR (with its
limited pivoting) summed in reference-BLAS order, the C library's ``pow`` for integer powers,
long-double sums where R uses them, R's ``seq.int`` and type-7 ``quantile`` — so that on the
test data the results are not merely within 1e-12 of R 4.2.2 but equal to the last bit.
"""

from __future__ import annotations

from .arithmetic import seq_unit
from .contrasts import CONTRAST_KINDS, contrast_matrix, full_dummy_matrix
from .poly import PolyState, poly
from .scale import ScaleState, scale
from .splines import SplineState, bs, ns, spline_design

__all__ = [
    "CONTRAST_KINDS",
    "contrast_matrix",
    "full_dummy_matrix",
    "PolyState",
    "poly",
    "ScaleState",
    "scale",
    "SplineState",
    "ns",
    "bs",
    "spline_design",
    "seq_unit",
]
