// 128-bit address arithmetic shared by the ACL and the rate limiter: big-endian loads and
// prefix masks over 64-bit halves.
#pragma once

#include <cstdint>

namespace dp::policy {

inline std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// The top `bits` bits of a 64-bit word set; 0 for bits <= 0, all for bits >= 64.
inline std::uint64_t top_mask(int bits) {
  if (bits <= 0) return 0;
  if (bits >= 64) return ~std::uint64_t{0};
  return ~std::uint64_t{0} << (64 - bits);
}

}  // namespace dp::policy
