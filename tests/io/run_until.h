// Drives an EventLoop in a test until a condition holds, bounded in time.
#pragma once

#include <chrono>
#include <functional>

#include "io/event_loop.h"

namespace dp::io::testing {

// Runs `loop` until `done()` holds or `limit` passes; checks every millisecond.
inline void run_until(EventLoop& loop, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  Timer* self = nullptr;
  Timer tick(loop, [&] {
    if (done() || std::chrono::steady_clock::now() > deadline) {
      loop.stop();
    } else {
      self->arm(std::chrono::milliseconds(1));
    }
  });
  self = &tick;
  tick.arm(std::chrono::milliseconds(0));
  loop.run();
}

}  // namespace dp::io::testing
