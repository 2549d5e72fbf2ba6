// The micro-benchmarks' main, and a count of heap allocations that benches report per
// operation (bench::allocations()), so "no allocation on the hit path" is measured.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "bench/alloc_count.h"

namespace {
std::atomic<std::uint64_t> g_allocations{0};
}  // namespace

std::uint64_t dp::bench::allocations() { return g_allocations.load(std::memory_order_relaxed); }

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

BENCHMARK_MAIN();
