// Heap allocations made so far in the bench binary (bench_main.cc): through operator new, and
// through malloc/calloc/realloc by anyone (operator new included, and ldns and GnuTLS).
#pragma once

#include <cstdint>

namespace dp::bench {
std::uint64_t allocations();
std::uint64_t mallocs();
}  // namespace dp::bench
