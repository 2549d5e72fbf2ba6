// Assertions. DP_ASSERT: provable invariants (abort always). DP_BUG: "cannot happen but
// survivable" (logs and counts in release, aborts in debug). Never assert on input.
#pragma once

#include <atomic>
#include <cstdint>

namespace dp {

[[noreturn]] void check_fail(const char* expr, const char* file, int line) noexcept;
void bug_report(const char* expr, const char* file, int line) noexcept;

// Number of DP_BUG conditions hit since start (exported as a metric).
std::uint64_t bug_count() noexcept;

}  // namespace dp

#define DP_ASSERT(cond) \
  ((cond) ? static_cast<void>(0) : ::dp::check_fail(#cond, __FILE__, __LINE__))

// Evaluates to cond, so it can guard the recovery path: if (DP_BUG(p == nullptr)) return;
#define DP_BUG(cond) ((cond) ? (::dp::bug_report(#cond, __FILE__, __LINE__), true) : false)
