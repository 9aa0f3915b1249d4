// The machine's thread count, asked once: std::thread::hardware_concurrency() reads the system's
// CPU list on every call (tens of microseconds), which small fits calling it per pass paid.
#pragma once
#include <thread>

namespace rmodels {

// std::thread::hardware_concurrency() (0 when unknown), computed on first use.
inline unsigned hardware_threads() {
  static const unsigned h = std::thread::hardware_concurrency();
  return h;
}

}  // namespace rmodels
