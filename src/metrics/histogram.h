// A latency histogram with fixed buckets: plain integers owned by one thread, copied for a
// scrape and summed across workers (Prometheus histograms are cumulative on output).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace dp::metrics {

class LatencyHistogram {
 public:
  // Upper bounds in microseconds: 0.5 ms to 5 s, about ×2.5 apart; above the last: +Inf.
  static constexpr std::array<std::uint64_t, 12> kBoundsUs{500,     1'000,   2'500,     5'000,
                                                           10'000,  25'000,  50'000,    100'000,
                                                           250'000, 500'000, 1'000'000, 5'000'000};

  void observe(std::chrono::microseconds latency) {
    const auto us = static_cast<std::uint64_t>(latency.count() < 0 ? 0 : latency.count());
    std::size_t i = 0;
    while (i < kBoundsUs.size() && us > kBoundsUs[i]) ++i;
    ++counts_[i];
    sum_us_ += us;
  }
  void add(const LatencyHistogram& other) {
    for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
    sum_us_ += other.sum_us_;
  }

  // Observations in bucket i alone (i == kBoundsUs.size(): above the last bound).
  std::uint64_t bucket(std::size_t i) const { return counts_[i]; }
  std::uint64_t count() const {
    std::uint64_t n = 0;
    for (const auto c : counts_) n += c;
    return n;
  }
  std::uint64_t sum_us() const { return sum_us_; }

 private:
  std::array<std::uint64_t, kBoundsUs.size() + 1> counts_{};
  std::uint64_t sum_us_ = 0;
};

}  // namespace dp::metrics
