#include "upstream/selection.h"

#include <algorithm>

namespace dp::upstream {

using std::chrono::duration_cast;
using std::chrono::microseconds;

Selection::Selection(std::size_t upstreams, const SelectionOptions& options)
    : options_(options), upstreams_(upstreams), active_(upstreams) {}

std::size_t Selection::add() {
  upstreams_.emplace_back();
  ++active_;
  return upstreams_.size() - 1;
}

void Selection::remove(std::size_t upstream) {
  if (upstreams_[upstream].removed) return;
  upstreams_[upstream].removed = true;
  --active_;
}

void Selection::restore(std::size_t upstream) {
  if (!upstreams_[upstream].removed) return;
  upstreams_[upstream].removed = false;
  ++active_;
}

// Unmeasured counts as fastest (zero), so every upstream gets measured.
microseconds Selection::rtt_rank(std::size_t upstream) const {
  const RttEstimator& rtt = upstreams_[upstream].rtt;
  return rtt.measured() ? rtt.srtt() : microseconds(0);
}

std::size_t Selection::upstream_choose(std::size_t avoid, TimePoint now) {
  const bool can_avoid = active_ > 1;
  auto choosable = [&](std::size_t i) { return !(can_avoid && i == avoid) && usable(i, now); };
  std::size_t best = kNone;
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    if (choosable(i) && (best == kNone || rtt_rank(i) < rtt_rank(best))) best = i;
  }
  if (best != kNone) {
    if (options_.probe_every > 0 && ++choices_ % options_.probe_every == 0) {
      // The others in turn, one probe each time.
      const std::size_t others = upstreams_.size() - 1;
      const std::size_t turn = choices_ / options_.probe_every;
      for (std::size_t k = 0; k < others; ++k) {
        const std::size_t i = (best + 1 + (turn + k) % others) % upstreams_.size();
        if (choosable(i)) return i;
      }
    }
    return best;
  }
  // All in back-off: the one that recovers first (a probe may be under way on it).
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    if (upstreams_[i].removed || (can_avoid && i == avoid)) continue;
    if (best == kNone || upstreams_[i].down_until < upstreams_[best].down_until) best = i;
  }
  return best;
}

microseconds Selection::hedge_delay(TimePoint now) const {
  microseconds delay = duration_cast<microseconds>(options_.hedge_max);
  for (std::size_t i = 0; i < upstreams_.size(); ++i) {
    if (!usable(i, now)) continue;
    delay = std::min(delay, upstreams_[i].rtt.hedge_delay(options_.hedge_min, options_.hedge_max,
                                                          options_.hedge_unmeasured));
  }
  return delay;
}

std::vector<std::size_t> Selection::hedge_targets(std::size_t slow, std::size_t avoid,
                                                  TimePoint now) const {
  std::vector<std::size_t> targets;
  for (std::size_t k = 1; k < upstreams_.size(); ++k) {
    const std::size_t i = (slow + k) % upstreams_.size();
    if (usable(i, now) && i != avoid) targets.push_back(i);
  }
  return targets;
}

std::chrono::milliseconds Selection::backoff_start(std::size_t upstream, TimePoint now) {
  Health& health = upstreams_[upstream];
  health.backoff = std::clamp(health.backoff * 2, options_.backoff_initial, options_.backoff_max);
  health.down_until = now + health.backoff;
  return health.backoff;
}

void Selection::backoff_end(std::size_t upstream) {
  upstreams_[upstream].backoff = {};
  upstreams_[upstream].down_until = {};
}

void Selection::backoff_clear_all() {
  for (std::size_t i = 0; i < upstreams_.size(); ++i) backoff_end(i);
}

TimePoint Selection::probe_at(std::size_t upstream) const {
  const Health& health = upstreams_[upstream];
  return health.backoff.count() > 0 && !health.removed ? health.down_until : TimePoint::max();
}

}  // namespace dp::upstream
