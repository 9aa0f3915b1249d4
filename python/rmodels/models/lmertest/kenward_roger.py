"""Kenward-Roger's adjusted covariance of β̂ and denominator df, as pbkrtest 0.5.2 computes them
(``vcovAdj`` → ``vcovAdj_internal``, ``Lb_ddf``, ``.KR_adjust``), without pbkrtest's n × n
matrices.

pbkrtest writes the marginal covariance as Σ = Σ_r γ_r G_r + σ² I, one G_r = Z_t (I ⊗ E_r) Z_t'
per variance/covariance parameter of each random-effect term t (E_r is 1 at the parameter's
entries of the k × k covariance), and forms Σ⁻¹ densely. Here Σ = σ²(I + ZΛΛ'Z') and its
powers are M_j / σ^{2j} with M_j = I − Z K_j Z' (Woodbury):

    K₁ = Λ(Λ'Z'ZΛ + I)⁻¹Λ',  K₂ = 2K₁ − K₁Z'ZK₁,  K₃ = K₁ + K₂ − K₁Z'ZK₂,

so every quantity pbkrtest needs (X'Σ⁻¹G_rΣ⁻¹X, X'Σ⁻¹G_rΣ⁻¹G_sΣ⁻¹X, tr(G_rΣ⁻¹G_sΣ⁻¹) …) is a
product of the q × q, q × p and p × p blocks of [Z X]'[Z X]. As pbkrtest: prior weights are not
part of Σ, and the fit must be by REML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import FitError

if TYPE_CHECKING:
    import scipy.sparse as sp

ML_MESSAGE = "Kenward-Roger's method is only available for REML model fits"


@dataclass
class AdjustedVcov:
    """pbkrtest's ``vcovAdj``: Φ_A (p, p) with its attributes ``P`` (one (p, p) per variance
    parameter) and ``W`` (2 × the inverse of the expected information)."""

    Phi: np.ndarray  # noqa: N815 - vcov(β̂)
    PhiA: np.ndarray  # noqa: N815
    P: list  # noqa: N815
    W: np.ndarray  # noqa: N815
    PhiPPhi: np.ndarray | None = None  # noqa: N815 - ΦP_iΦ stacked, made when first needed


def random_effects_matrix(re: Any) -> sp.csc_matrix:
    """Z (n, q) of lme4 (terms in order, within a term level-major blocks of k columns)."""
    import scipy.sparse as sp
    blocks = []
    for t in re.terms:
        n, k = t.Z.shape
        rows = np.repeat(np.arange(n), k)
        cols = (np.asarray(t.codes)[:, None] * k + np.arange(k)[None, :]).ravel()
        blocks.append(sp.csc_matrix((t.Z.ravel(), (rows, cols)), shape=(n, t.nlev * k)))
    return sp.hstack(blocks, format="csc")


def relative_covariance_factor(re: Any, theta: np.ndarray) -> sp.csc_matrix:
    """Λ_θ (q, q): per term I_l ⊗ T."""
    import scipy.sparse as sp
    return sp.block_diag([sp.kron(sp.identity(t.nlev), T)
                          for t, T in zip(re.terms, re.templates(theta))], format="csc")


def parameter_patterns(re: Any) -> list:
    """pbkrtest's E_r in q-space (sparse (q, q)), one per variance/covariance parameter in its
    order (per term the upper triangle by rows)."""
    import scipy.sparse as sp
    out = []
    for t in re.terms:
        for i in range(t.k):
            for j in range(i, t.k):
                E = np.zeros((t.k, t.k))
                E[i, j] = E[j, i] = 1.0
                out.append(sp.block_diag(
                    [sp.kron(sp.identity(u.nlev), E) if u is t
                     else sp.csc_matrix((u.nlev * u.k, u.nlev * u.k)) for u in re.terms],
                    format="csc"))
    return out


class MarginalPowers:
    """Z'Σ^{-j}Z, Z'Σ^{-j}X, X'Σ^{-j}X (j = 1, 2, 3) and tr(Σ⁻²) from the Gram blocks."""

    def __init__(self, Z: sp.csc_matrix, X: np.ndarray, Lam: sp.csc_matrix, sigma2: float):
        self.ZtZ = (Z.T @ Z).toarray()
        self.ZtX = np.asarray(Z.T @ X)
        self.XtX = X.T @ X
        self.n = X.shape[0]
        self.s2 = sigma2
        Lam = Lam.toarray()
        M = Lam.T @ self.ZtZ @ Lam + np.eye(Lam.shape[0])
        K1 = Lam @ np.linalg.solve(M, Lam.T)
        K2 = 2 * K1 - K1 @ self.ZtZ @ K1
        K3 = K1 + K2 - K1 @ self.ZtZ @ K2
        self.K = {1: K1, 2: K2, 3: K3}

    def zz(self, j: int) -> np.ndarray:
        return (self.ZtZ - self.ZtZ @ self.K[j] @ self.ZtZ) / self.s2**j

    def zx(self, j: int) -> np.ndarray:
        return (self.ZtX - self.ZtZ @ self.K[j] @ self.ZtX) / self.s2**j

    def xx(self, j: int) -> np.ndarray:
        return (self.XtX - self.ZtX.T @ self.K[j] @ self.ZtX) / self.s2**j

    def trace2(self) -> float:
        """tr(Σ⁻²) = (n − tr(K₂Z'Z)) / σ⁴."""
        return (self.n - float(np.sum(self.K[2] * self.ZtZ))) / self.s2**2


def kr_building_blocks(mp: MarginalPowers, E: list) -> tuple[list, dict, np.ndarray]:
    """pbkrtest's PP_r = −X'Σ⁻¹G_rΣ⁻¹X, QQ_rs = X'Σ⁻¹G_rΣ⁻¹G_sΣ⁻¹X (r ≤ s) and
    Ktrace_rs = tr(G_rΣ⁻¹G_sΣ⁻¹), the residual parameter (G = I) last."""
    F1, F2, C1 = mp.zx(1), mp.zx(2), mp.zz(1)
    C2 = mp.zz(2)
    R = len(E)
    EF = [Er @ F1 for Er in E]
    EC = [np.asarray(Er @ C1) for Er in E]
    PP = [-(F1.T @ EFr) for EFr in EF] + [-mp.xx(2)]
    QQ: dict = {}
    K = np.zeros((R + 1, R + 1))
    for r in range(R):
        for s in range(r, R):
            QQ[r, s] = EF[r].T @ C1 @ EF[s]
            K[r, s] = K[s, r] = float(np.sum(EC[r] * EC[s].T))
        QQ[r, R] = EF[r].T @ F2
        K[r, R] = K[R, r] = float(np.sum(E[r].multiply(C2).sum()))
    QQ[R, R] = mp.xx(3)
    K[R, R] = mp.trace2()
    return PP, QQ, K


def vcov_adjusted(fit: Any) -> AdjustedVcov:
    """pbkrtest's ``vcovAdj`` for a REML lmer fit: Φ_A = Φ + 2Φ U Φ with U from the expected
    information of the variance parameters (``vcovAdj_internal``)."""
    if not fit.REML:
        raise FitError(ML_MESSAGE)
    Phi = fit.vcov_matrix()
    Z = random_effects_matrix(fit.re)
    mp = MarginalPowers(Z, np.asarray(fit.X), relative_covariance_factor(fit.re, fit.theta),
                        fit.sigma() ** 2)
    PP, QQ, Ktr = kr_building_blocks(mp, parameter_patterns(fit.re))
    W = information_inverse(Phi, PP, QQ, Ktr)
    G = len(PP)
    U = np.zeros_like(Phi)
    for i in range(G - 1):
        for j in range(i + 1, G):
            U += W[i, j] * (QQ[i, j] - PP[i] @ Phi @ PP[j])
    U = U + U.T
    for i in range(G):
        U += W[i, i] * (QQ[i, i] - PP[i] @ Phi @ PP[i])
    return AdjustedVcov(Phi, Phi + 2 * (Phi @ U @ Phi), PP, W)


def information_inverse(Phi: np.ndarray, PP: list, QQ: dict, Ktr: np.ndarray) -> np.ndarray:
    """W = 2 IE2⁻¹ (generalised inverse when the smallest |eigenvalue| ≤ 1e-10), IE2_ij =
    Ktrace_ij − 2 Σ(Φ ∘ QQ_ij) + Σ((ΦP_i) ∘ (P_jΦ))."""
    G = len(PP)
    IE2 = np.zeros((G, G))
    for i in range(G):
        PhiPi = Phi @ PP[i]
        for j in range(i, G):
            IE2[i, j] = IE2[j, i] = (Ktr[i, j] - 2 * float(np.sum(Phi * QQ[i, j]))
                                     + float(np.sum(PhiPi * (PP[j] @ Phi))))
    if np.min(np.abs(np.linalg.eigvalsh(IE2))) > 1e-10:
        return 2 * np.linalg.inv(IE2)
    return 2 * ginv(IE2)


def ginv(A: np.ndarray) -> np.ndarray:
    """MASS's ``ginv``: the SVD pseudo-inverse, singular values above √ε·d₁ kept."""
    U, d, Vt = np.linalg.svd(A, full_matrices=False)
    pos = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0) if len(d) else d > 0
    return (Vt[pos].T / d[pos]) @ U[:, pos].T


def ginv_times(X: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``ginv(X) %*% B`` for a tall X (n, p) without forming ginv(X): with a triangular R of
    X = QR (Cholesky of X'X, or a QR when X'X is not positive definite) and R = U S V' (S: the
    singular values of X), ginv(X) B = V S⁺ U' R⁻ᵀ X'B, MASS's tolerance √ε·s₁."""
    out = ginv_crossprod(X.T @ X, X.T @ B)
    if out is not None:
        return out
    Q, R = np.linalg.qr(X)
    return ginv_triangular(R, Q.T @ B)


def ginv_crossprod(XtX: np.ndarray, XtB: np.ndarray) -> np.ndarray | None:
    """``ginv(X) %*% B`` from X'X and X'B (Cholesky R of X'X; None when X'X is not positive
    definite): R⁻¹R⁻ᵀX'B when all singular values are kept (:func:`full_rank_inverse`), else
    through R's SVD."""
    try:
        R = np.linalg.cholesky(XtX).T
    except np.linalg.LinAlgError:
        return None
    Rinv = full_rank_inverse(R)
    if Rinv is not None:
        return Rinv @ (Rinv.T @ XtB)
    return ginv_triangular(R, np.linalg.solve(R.T, XtB))


def ginv_triangular(R: np.ndarray, QtB: np.ndarray) -> np.ndarray:
    """V S⁺ U' QtB with R = U S V' (singular values above √ε·s₁ kept; R⁻¹ QtB when all are)."""
    Rinv = full_rank_inverse(R)
    if Rinv is not None:
        return Rinv @ QtB
    U, d, Vt = np.linalg.svd(R)
    pos = d > max(np.sqrt(np.finfo(float).eps) * d[0], 0) if len(d) else d > 0
    return (Vt[pos].T / d[pos]) @ (U[:, pos].T @ QtB)


def full_rank_inverse(R: np.ndarray) -> np.ndarray | None:
    """R⁻¹ of an upper triangular R when ‖R‖_F‖R⁻¹‖_F < 1/√ε: that bounds R's condition number
    s₁/s_p, so MASS's ``ginv`` keeps every singular value and equals the inverse; None
    otherwise (or R singular)."""
    from scipy.linalg import lapack
    if R.shape[0] == 0:
        return None
    Rinv, info = lapack.dtrtri(R, lower=0)
    if info != 0 or not np.all(np.isfinite(Rinv)):
        return None
    if np.linalg.norm(R) * np.linalg.norm(Rinv) >= 1 / np.sqrt(np.finfo(float).eps):
        return None
    return np.triu(Rinv)  # dtrtri leaves the strict lower triangle as it was


def phi_p_phi(adj: AdjustedVcov) -> np.ndarray:
    """ΦP_iΦ for every variance parameter, (G, p, p) (computed once per fit)."""
    if adj.PhiPPhi is None:
        adj.PhiPPhi = adj.Phi @ np.stack(adj.P) @ adj.Phi
    return adj.PhiPPhi


def kr_a1_a2(L: np.ndarray, adj: AdjustedVcov) -> tuple[float, float]:
    """A₁ = Σ_ij W_ij tr(ΘΦP_iΦ) tr(ΘΦP_jΦ), A₂ = Σ_ij W_ij tr(ΘΦP_iΦ ΘΦP_jΦ), Θ =
    L'(LΦL')⁻¹L."""
    Theta = L.T @ np.linalg.solve(L @ adj.Phi @ L.T, L)
    U = Theta @ phi_p_phi(adj)
    tr = np.trace(U, axis1=1, axis2=2)
    A1 = float(tr @ adj.W @ tr)
    A2 = float(np.sum(adj.W * np.einsum("iab,jba->ij", U, U)))
    return A1, A2


def kr_a1_rows(M: np.ndarray, adj: AdjustedVcov) -> np.ndarray:
    """A₁ of each one-row contrast l (rows of M): with Θ = l'l / (lΦl'), tr(ΘΦP_iΦ) =
    lΦP_iΦl' / (lΦl'), and A₂ = A₁ (Θ has rank one)."""
    c = np.einsum("rp,pq,rq->r", M, adj.Phi, M)
    with np.errstate(divide="ignore", invalid="ignore"):
        tr = np.einsum("rp,ipq,rq->ri", M, phi_p_phi(adj), M) / c[:, None]
    return np.einsum("ri,ij,rj->r", tr, adj.W, tr)


def kr_ddf_scaling(A1: Any, A2: Any, q: Any) -> tuple[np.ndarray, np.ndarray]:
    """The denominator df and the F scaling of Kenward and Roger (1997) from A₁, A₂ and q
    (``Lb_ddf`` / ``.KR_adjust``), elementwise over arrays."""
    A1, A2, q = (np.asarray(v, dtype=float) for v in (A1, A2, q))
    with np.errstate(divide="ignore", invalid="ignore"):
        B = (A1 + 6 * A2) / (2 * q)
        g = ((q + 1) * A1 - (q + 4) * A2) / ((q + 2) * A2)
        den = 3 * q + 2 * (1 - g)
        c1, c2, c3 = g / den, (q - g) / den, (q + 2 - g) / den
        V0 = 1 + c1 * B
        V0 = np.where(np.abs(V0) < 1e-10, 0.0, V0)
        V1, V2 = 1 - c2 * B, 1 - c3 * B
        x = 1 - A2 / q
        # pbkrtest's .divZero: 1 when both are (near) zero
        ratio = np.where((np.abs(x) < 1e-14) & (np.abs(V1) < 1e-14), 1.0, x / V1)
        rho = ratio**2 * V0 / V2 / q
        df2 = 4 + (q + 2) / (q * rho - 1)
        scaling = np.where(np.abs(df2 - 2) < 0.01, 1.0, df2 * x / (df2 - 2))
    return df2, scaling


def kr_t_tests(M: np.ndarray, beta: np.ndarray,
               adj: AdjustedVcov) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """lmerTest's ``get_KR1D`` of every row l of M: l'β̂, √(l'Φ_A l) and ``Lb_ddf``."""
    A1 = kr_a1_rows(M, adj)
    df2, _ = kr_ddf_scaling(A1, A1, 1.0)
    se = np.sqrt(np.einsum("rp,pq,rq->r", M, adj.PhiA, M))
    return M @ beta, se, df2


def kr_f(L: np.ndarray, beta: np.ndarray, adj: AdjustedVcov) -> tuple[float, float, int, float]:
    """pbkrtest's ``KRmodcomp`` for Lβ = 0 (``.KR_adjust``): the scaled F, the unscaled F
    (Wald with Φ_A over q), q = rank(L) and the denominator df; a rank-deficient L is replaced
    by a basis of its rows (the tests depend on the row space alone)."""
    q = int(np.linalg.matrix_rank(L))
    if q < L.shape[0]:
        # pbkrtest tests the row space of L (its restriction matrix has full rank)
        L = np.linalg.svd(L, full_matrices=False)[2][:q]
    A1, A2 = kr_a1_a2(L, adj)
    df2, scaling = kr_ddf_scaling(A1, A2, q)
    Lb = L @ beta
    wald = float(Lb @ np.linalg.solve(L @ adj.PhiA @ L.T, Lb))
    F_unscaled = wald / q
    return float(scaling) * F_unscaled, F_unscaled, q, float(df2)
