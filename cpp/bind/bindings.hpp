// Declarations of the per-algorithm binding registrations (one binding file per algorithm).
#pragma once
#include <pybind11/pybind11.h>

namespace rmodels {
struct GlmResult;
struct LmFit;
// glm_fit's result as the dict the Python side reads (glm_bind.cpp; the batch fits use it too).
pybind11::dict glm_result_to_dict(GlmResult&& r);
// The fields of an lm fit every result dict carries (lm_bind.cpp; the batch fits use it too):
// qraux, pivot, rank, effects, residuals, fitted_values, df_residual, n_used, algorithm.
void put_lm_fit_fields(pybind11::dict& d, LmFit&& fit);

void register_design(pybind11::module_& m);  // design_bind.cpp: model-matrix kernels
void register_lm(pybind11::module_& m);      // lm_bind.cpp: pivoted QR least squares
void register_glm(pybind11::module_& m);     // glm_bind.cpp: IRLS
void register_lmer(pybind11::module_& m);    // lmer_bind.cpp: penalized least squares
void register_batch(pybind11::module_& m);   // batch_bind.cpp: grouped (by) lm / glm fits
void register_format(pybind11::module_& m);  // format_bind.cpp: R's number formatting
void register_rng(pybind11::module_& m);     // rng_bind.cpp: R's random numbers
void register_glmer(pybind11::module_& m);   // glmer_bind.cpp: PIRLS, Laplace, AGQ
void register_boot(pybind11::module_& m);    // boot_bind.cpp: bootstrap refits
}  // namespace rmodels
