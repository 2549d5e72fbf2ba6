// Request ids by due time, for a pool's one timer: the earliest first. A finished request's
// entry is not searched out of the heap; it is skipped when it comes up.
#pragma once

#include <cstdint>
#include <functional>
#include <queue>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace dp::upstream {

class DeadlineQueue {
 public:
  void push(TimePoint at, std::uint64_t id) { queue_.emplace(at, id); }

  // Takes the first entry due by `now` off the queue, into `id`; false when none is due.
  bool due_pop(TimePoint now, std::uint64_t& id) {
    if (queue_.empty() || queue_.top().first > now) return false;
    id = queue_.top().second;
    queue_.pop();
    return true;
  }

  // When the first entry whose id is `live` is due, dropping the dead ones ahead of it;
  // TimePoint::max() when there is none.
  template <class Live>
  TimePoint next(const Live& live) {
    while (!queue_.empty() && !live(queue_.top().second)) queue_.pop();
    return queue_.empty() ? TimePoint::max() : queue_.top().first;
  }

 private:
  using Entry = std::pair<TimePoint, std::uint64_t>;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue_;
};

}  // namespace dp::upstream
