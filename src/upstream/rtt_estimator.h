// Smoothed round-trip time of one upstream (RFC 6298 §2 arithmetic, as TCP does), and the
// delay after which a query to it is hedged. Pure: samples and no clock.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>

namespace dp::upstream {

class RttEstimator {
 public:
  using ms = std::chrono::milliseconds;
  using us = std::chrono::microseconds;

  void add(us sample) {
    const double x = static_cast<double>(std::max<us::rep>(sample.count(), 0));
    if (!measured_) {
      srtt_ = x;
      rttvar_ = x / 2;
      measured_ = true;
      return;
    }
    rttvar_ = 0.75 * rttvar_ + 0.25 * std::abs(srtt_ - x);  // beta 1/4
    srtt_ = 0.875 * srtt_ + 0.125 * x;                      // alpha 1/8
  }

  bool measured() const { return measured_; }
  us srtt() const { return us(static_cast<us::rep>(srtt_)); }

  // How long to wait for an answer before asking another upstream too: the RTT most answers
  // beat (srtt + 4 rttvar, the RTO formula), within [floor, ceiling]. Unmeasured: `unknown`.
  us hedge_delay(us floor, us ceiling, us unknown) const {
    if (!measured_) return unknown;
    const auto delay = us(static_cast<us::rep>(srtt_ + 4 * rttvar_));
    return std::clamp(delay, floor, ceiling);
  }

 private:
  bool measured_ = false;
  double srtt_ = 0;    // microseconds
  double rttvar_ = 0;  // microseconds
};

}  // namespace dp::upstream
