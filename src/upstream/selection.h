// The upstream pool's pure decisions: each upstream's health and back-off, which upstream a
// query goes to (the fastest healthy one by measured RTT, now and then another as a probe),
// when a slow copy is hedged and on which upstream. Takes `now`; never reads a clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/clock.h"
#include "upstream/rtt_estimator.h"

namespace dp::upstream {

// Filled from PoolOptions, whose comments say what each means.
struct SelectionOptions {
  std::chrono::milliseconds backoff_initial{};
  std::chrono::milliseconds backoff_max{};
  std::chrono::milliseconds hedge_min{};
  std::chrono::milliseconds hedge_max{};
  std::chrono::milliseconds hedge_unmeasured{};
  std::size_t probe_every = 0;  // 0: never probe
};

// One pool's view of its upstreams, by index. Owned by the pool, on its worker's thread.
class Selection {
 public:
  static constexpr std::size_t kNone = SIZE_MAX;  // no upstream (to avoid)

  Selection(std::size_t upstreams, const SelectionOptions& options);

  std::size_t size() const { return upstreams_.size(); }
  // Upstreams not removed: the ones queries may go to.
  std::size_t active() const { return active_; }

  // A reload changed the server list in place (Pool::servers_update): indices never move, so
  // queries in flight keep theirs. A new server is appended; a removed one is never chosen,
  // hedged to or probed again, until a later reload restores it with its RTT and back-off.
  std::size_t add();
  void remove(std::size_t upstream);
  void restore(std::size_t upstream);
  bool removed(std::size_t upstream) const { return upstreams_[upstream].removed; }

  // Not removed and not in back-off at `now`.
  bool usable(std::size_t upstream, TimePoint now) const {
    return !upstreams_[upstream].removed && upstreams_[upstream].down_until <= now;
  }
  // For status pages: the smoothed RTT (zero before a first sample) and the back-off's end.
  const RttEstimator& rtt(std::size_t upstream) const { return upstreams_[upstream].rtt; }
  TimePoint down_until(std::size_t upstream) const { return upstreams_[upstream].down_until; }

  // The upstream for a query's next copy: the usable one with the lowest smoothed RTT (one
  // not measured yet counts as fastest, so every upstream gets measured), except that one
  // choice in probe_every goes to another usable one, each in turn, so that a recovered or
  // faster upstream is noticed. Every one in back-off: the one that recovers first. `avoid`
  // (the upstream that just failed the query) is never chosen while there is another.
  std::size_t upstream_choose(std::size_t avoid, TimePoint now);

  // How long a copy sent now may go unanswered before another upstream is asked too: late
  // by the standard of the fastest usable upstream (RttEstimator::hedge_delay), so a probe of
  // a slow upstream costs no more than a normal query. hedge_max at most.
  std::chrono::microseconds hedge_delay(TimePoint now) const;
  // Where a hedge of a copy on `slow` may go, in the order to try: the usable upstreams after
  // it, never `avoid` (the one that already failed or refused the query).
  std::vector<std::size_t> hedge_targets(std::size_t slow, std::size_t avoid, TimePoint now) const;

  // A copy on `upstream` was answered, or lost a race, after `sample`.
  void rtt_add(std::size_t upstream, std::chrono::microseconds sample) {
    upstreams_[upstream].rtt.add(sample);
  }
  // A connect, TLS or liveness failure: in back-off from `now`, doubling up to backoff_max
  // so that recovery needs no restart. Returns the back-off.
  std::chrono::milliseconds backoff_start(std::size_t upstream, TimePoint now);
  // It answered: the next failure backs off from backoff_initial again (the back-off already
  // running stands: its other connections may still be failing).
  void backoff_reset(std::size_t upstream) { upstreams_[upstream].backoff = {}; }
  // A handshake completed: usable at once.
  void backoff_end(std::size_t upstream);
  // New trust (a reload): a failing upstream is retried at once.
  void backoff_clear_all();

  // When the pool should probe `upstream` in the background (if it has no connection), so
  // a recovered one is found before a client query has to find out: when its back-off ends,
  // TimePoint::max() when it is not backing off.
  TimePoint probe_at(std::size_t upstream) const;
  bool probe_due(std::size_t upstream, TimePoint now) const { return probe_at(upstream) <= now; }

 private:
  struct Health {
    RttEstimator rtt;
    TimePoint down_until{};                // in back-off until then
    std::chrono::milliseconds backoff{0};  // the last back-off; zero once it answers
    bool removed = false;                  // by a reload: never chosen
  };
  std::chrono::microseconds rtt_rank(std::size_t upstream) const;

  SelectionOptions options_;
  std::vector<Health> upstreams_;
  std::size_t active_ = 0;     // not removed
  std::uint64_t choices_ = 0;  // upstream choices made, for the occasional probe
};

}  // namespace dp::upstream
