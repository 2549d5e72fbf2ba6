// Heap allocations made through operator new so far in the bench binary (bench_main.cc).
#pragma once

#include <cstdint>

namespace dp::bench {
std::uint64_t allocations();
}  // namespace dp::bench
