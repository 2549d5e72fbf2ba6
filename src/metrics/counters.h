// Counters declared once: the helpers behind the X-macro lists in the *_stats.h headers, where
// one line per counter gives its member, its part in the per-worker sum and its /metrics sample.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace dp::metrics {

// One worker's count (or level): a plain integer, summed across workers at a scrape.
using Count = std::uint64_t;

// The values of an enum whose last value is aliased as kLast (`kLast = kSomething`, which
// switches need no case for; tests/metrics/counters_test.cc checks that nothing follows it).
template <class E>
inline constexpr std::size_t kEnumCount = static_cast<std::size_t>(E::kLast) + 1;

// One count per value of enum E, indexed by static_cast<std::size_t>(value): sized by E itself,
// so a value added to E gets its counter.
template <class E>
struct CountByEnum : std::array<std::uint64_t, kEnumCount<E>> {
  static_assert(std::is_enum_v<E>);
  using Enum = E;
};

inline void count_add(std::uint64_t& to, std::uint64_t from) { to += from; }
template <std::size_t N>
void count_add(std::array<std::uint64_t, N>& to, const std::array<std::uint64_t, N>& from) {
  for (std::size_t i = 0; i < N; ++i) to[i] += from[i];
}

}  // namespace dp::metrics

// Each list is DP_<STRUCT>_COUNTS(X), one line per counter: X(type, member, metric, label, help)
//   type    metrics::Count, or an array (CountByEnum<E>, ...)
//   metric  its Prometheus family: a counter when the name ends in _total, else a gauge; ""
//           when it is no sample of its own (proxy/metrics_page.cc adds it into another)
//   label   "key=value" for one sample of a family of several, "key" for an array (the value
//           named from the index), "" for a family of one sample
//   help    the family's HELP text (on its first line; "" on the others) and the member's doc
#define DP_METRICS_DECLARE(type, member, metric, label, help) type member{};
#define DP_METRICS_ADD(type, member, metric, label, help) \
  ::dp::metrics::count_add(member, other.member);
