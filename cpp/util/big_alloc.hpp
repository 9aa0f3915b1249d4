// Large n-vectors (a million rows and more): the first touch of every fresh 4 KiB page is a page
// fault, and on virtual machines a fit's scratch and result vectors can spend as long in those
// faults as in the arithmetic.  Large buffers therefore ask the kernel for transparent huge
// pages (madvise, before the first write), as NumPy does for its own large arrays; where huge
// pages are off or unavailable the advice is a no-op.
#pragma once
#include <Eigen/Core>
#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace rmodels {

// Smallest buffer worth advising (NumPy's threshold).
constexpr std::size_t kHugeAdviceBytes = std::size_t{4} << 20;

// Advise huge pages for the whole pages inside [p, p + bytes).
inline void advise_huge_pages(const void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p == nullptr || bytes < kHugeAdviceBytes) return;
  constexpr std::uintptr_t kPage = 4096;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t b = (a + kPage - 1) & ~(kPage - 1);
  const std::uintptr_t e = (a + bytes) & ~(kPage - 1);
  if (e > b) madvise(reinterpret_cast<void*>(b), e - b, MADV_HUGEPAGE);  // advice only
#else
  (void)p;
  (void)bytes;
#endif
}

// v with n entries (contents unspecified when it is reallocated); a new large buffer is advised.
template <typename Vec>
void resize_big(Vec& v, Eigen::Index n) {
  if (v.size() == n) return;
  v.resize(n);
  advise_huge_pages(v.data(), static_cast<std::size_t>(n) * sizeof(typename Vec::Scalar));
}

// A fresh n-vector (uninitialised), advised when large.
inline Eigen::VectorXd big_vector(Eigen::Index n) {
  Eigen::VectorXd v;
  resize_big(v, n);
  return v;
}

}  // namespace rmodels
