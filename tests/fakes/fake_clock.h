// A TimeSource that moves only when the test says so: deadlines without sleeps.
#pragma once

#include "common/clock.h"

namespace dp::testing {

class FakeClock final : public TimeSource {
 public:
  TimePoint now() const override { return now_; }
  void advance(std::chrono::milliseconds by) { now_ += by; }

 private:
  TimePoint now_ = TimePoint{} + std::chrono::hours(1);
};

}  // namespace dp::testing
