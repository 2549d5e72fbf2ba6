#include "common/check.h"

#include <cstdio>
#include <cstdlib>

namespace dp {
namespace {
std::atomic<std::uint64_t> g_bugs{0};
}

void check_fail(const char* expr, const char* file, int line) noexcept {
  std::fprintf(stderr, "dotproxy: assertion failed: %s at %s:%d\n", expr, file, line);
  std::abort();
}

void bug_report(const char* expr, const char* file, int line) noexcept {
  g_bugs.fetch_add(1, std::memory_order_relaxed);
  std::fprintf(stderr, "level=error msg=\"internal bug\" cond=\"%s\" at=%s:%d\n", expr, file, line);
#ifndef NDEBUG
  std::abort();
#endif
}

std::uint64_t bug_count() noexcept { return g_bugs.load(std::memory_order_relaxed); }

}  // namespace dp
