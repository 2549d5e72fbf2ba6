#include "upstream/selection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace dp::upstream {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// No clock anywhere: every decision is made at a time the test names.
const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

SelectionOptions options(std::size_t probe_every = 0) {
  SelectionOptions o;
  o.backoff_initial = milliseconds(500);
  o.backoff_max = milliseconds(1'500);
  o.hedge_min = milliseconds(10);
  o.hedge_max = milliseconds(1'000);
  o.hedge_unmeasured = milliseconds(300);
  o.probe_every = probe_every;
  return o;
}

// Sets each upstream's smoothed RTT (one sample: srtt is the sample).
void measure(Selection& selection, const std::vector<milliseconds>& rtts) {
  for (std::size_t i = 0; i < rtts.size(); ++i) selection.rtt_add(i, rtts[i]);
}

std::vector<std::size_t> choices(Selection& selection, int n, TimePoint now,
                                 std::size_t avoid = Selection::kNone) {
  std::vector<std::size_t> out;
  for (int i = 0; i < n; ++i) out.push_back(selection.upstream_choose(avoid, now));
  return out;
}

TEST(UpstreamSelectionTest, UnmeasuredUpstreamsCountAsFastestSoTheFirstInOrderGoesFirst) {
  Selection selection(3, options());
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0), 0u);
  measure(selection, {milliseconds(5)});
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0), 1u);  // unmeasured beats 5 ms
}

TEST(UpstreamSelectionTest, TheLowestSmoothedRttIsChosen) {
  Selection selection(3, options());
  measure(selection, {milliseconds(50), milliseconds(10), milliseconds(30)});
  EXPECT_THAT(choices(selection, 3, t0), ElementsAre(1u, 1u, 1u));
}

TEST(UpstreamSelectionTest, TheUpstreamToAvoidIsSkippedUnlessItIsTheOnlyOne) {
  Selection selection(2, options());
  measure(selection, {milliseconds(10), milliseconds(50)});
  EXPECT_EQ(selection.upstream_choose(0, t0), 1u);
  Selection single(1, options());
  EXPECT_EQ(single.upstream_choose(0, t0), 0u);
}

TEST(UpstreamSelectionTest, AnUpstreamInBackoffIsSkippedUntilItsBackoffEnds) {
  Selection selection(2, options());
  measure(selection, {milliseconds(10), milliseconds(50)});
  selection.backoff_start(0, t0);
  EXPECT_FALSE(selection.usable(0, t0 + milliseconds(499)));
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0 + milliseconds(499)), 1u);
  EXPECT_TRUE(selection.usable(0, t0 + milliseconds(500)));
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0 + milliseconds(500)), 0u);
}

TEST(UpstreamSelectionTest, WithEveryUpstreamInBackoffTheFirstToRecoverIsChosen) {
  Selection selection(3, options());
  selection.backoff_start(0, t0);                      // down until t0 + 500
  selection.backoff_start(1, t0 - milliseconds(200));  // t0 + 300
  selection.backoff_start(2, t0 - milliseconds(100));  // t0 + 400
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0), 1u);
  EXPECT_EQ(selection.upstream_choose(1, t0), 2u);  // but not the one to avoid
}

TEST(UpstreamSelectionTest, BackoffDoublesUpToTheCapAndStartsOverAfterAnAnswer) {
  Selection selection(1, options());
  std::vector<long> backoffs;
  for (int i = 0; i < 4; ++i) backoffs.push_back(selection.backoff_start(0, t0).count());
  EXPECT_THAT(backoffs, ElementsAre(500, 1'000, 1'500, 1'500));
  EXPECT_FALSE(selection.usable(0, t0 + milliseconds(1'499)));
  selection.backoff_reset(0);                                   // it answered on another connection
  EXPECT_FALSE(selection.usable(0, t0 + milliseconds(1'499)));  // the running back-off stands
  EXPECT_EQ(selection.backoff_start(0, t0).count(), 500);
}

TEST(UpstreamSelectionTest, ACompletedHandshakeEndsTheBackoffAtOnce) {
  Selection selection(2, options());
  selection.backoff_start(0, t0);
  selection.backoff_start(1, t0);
  selection.backoff_end(0);
  EXPECT_TRUE(selection.usable(0, t0));
  EXPECT_EQ(selection.backoff_start(0, t0).count(), 500);  // from the start again
  selection.backoff_clear_all();                           // new trust
  EXPECT_TRUE(selection.usable(0, t0));
  EXPECT_TRUE(selection.usable(1, t0));
}

TEST(UpstreamSelectionTest, AnUpstreamInBackoffIsProbedWhenItsBackoffEnds) {
  Selection selection(1, options());
  EXPECT_EQ(selection.probe_at(0), TimePoint::max());  // healthy: nothing to probe
  selection.backoff_start(0, t0);
  EXPECT_EQ(selection.probe_at(0), t0 + milliseconds(500));
  EXPECT_FALSE(selection.probe_due(0, t0 + milliseconds(499)));
  EXPECT_TRUE(selection.probe_due(0, t0 + milliseconds(500)));
  selection.backoff_end(0);
  EXPECT_EQ(selection.probe_at(0), TimePoint::max());
  // An answer alone ends the probing too: it is known to work.
  selection.backoff_start(0, t0);
  selection.backoff_reset(0);
  EXPECT_EQ(selection.probe_at(0), TimePoint::max());
}

TEST(UpstreamSelectionTest, OneChoiceInProbeEveryGoesToAnotherUpstream) {
  Selection selection(2, options(/*probe_every=*/4));
  measure(selection, {milliseconds(50), milliseconds(10)});
  EXPECT_THAT(choices(selection, 8, t0), ElementsAre(1u, 1u, 1u, 0u, 1u, 1u, 1u, 0u));
}

TEST(UpstreamSelectionTest, ProbesTakeTheOtherUpstreamsInTurnAndSkipThoseInBackoff) {
  Selection selection(3, options(/*probe_every=*/2));
  measure(selection, {milliseconds(10), milliseconds(50), milliseconds(30)});
  EXPECT_THAT(choices(selection, 8, t0), ElementsAre(0u, 2u, 0u, 1u, 0u, 2u, 0u, 1u));
  selection.backoff_start(1, t0);
  EXPECT_THAT(choices(selection, 4, t0), ElementsAre(0u, 2u, 0u, 2u));
}

TEST(UpstreamSelectionTest, WithoutProbesTheFastestTakesEveryChoice) {
  Selection selection(2, options(/*probe_every=*/0));
  measure(selection, {milliseconds(50), milliseconds(10)});
  EXPECT_THAT(choices(selection, 200, t0), ::testing::Each(1u));
}

TEST(UpstreamSelectionTest, HedgeDelayFollowsTheFastestUsableUpstreamWithinItsBounds) {
  Selection selection(2, options());
  EXPECT_EQ(selection.hedge_delay(t0), milliseconds(300));  // nothing measured
  measure(selection, {milliseconds(2), milliseconds(100)});
  // srtt + 4 rttvar of one 2 ms sample is 6 ms: raised to hedge_min.
  EXPECT_EQ(selection.hedge_delay(t0), milliseconds(10));
  selection.backoff_start(0, t0);  // the fast one is out: the slow one's standard
  EXPECT_EQ(selection.hedge_delay(t0), milliseconds(300));  // 100 + 4 * 50
  selection.backoff_start(1, t0);
  EXPECT_EQ(selection.hedge_delay(t0), milliseconds(1'000));  // none usable: hedge_max
}

TEST(UpstreamSelectionTest, AHedgeGoesToTheUsableUpstreamsAfterTheSlowOne) {
  Selection selection(3, options());
  EXPECT_THAT(selection.hedge_targets(0, Selection::kNone, t0), ElementsAre(1u, 2u));
  EXPECT_THAT(selection.hedge_targets(2, Selection::kNone, t0), ElementsAre(0u, 1u));
  EXPECT_THAT(selection.hedge_targets(0, 1, t0), ElementsAre(2u));  // not the one that refused
  selection.backoff_start(2, t0);
  EXPECT_THAT(selection.hedge_targets(0, Selection::kNone, t0), ElementsAre(1u));
  EXPECT_THAT(selection.hedge_targets(0, 1, t0), IsEmpty());
  Selection single(1, options());
  EXPECT_THAT(single.hedge_targets(0, Selection::kNone, t0), IsEmpty());
}

// A reload's in-place list change: a removed upstream is never chosen, probed, hedged to or
// waited for in back-off, and comes back with its RTT when restored.
TEST(UpstreamSelectionTest, ARemovedUpstreamIsNeverChosenAndARestoredOneKeepsItsRtt) {
  Selection selection(2, options(/*probe_every=*/2));
  measure(selection, {milliseconds(5), milliseconds(50)});
  selection.remove(0);
  EXPECT_EQ(selection.active(), 1u);
  EXPECT_FALSE(selection.usable(0, t0));
  EXPECT_THAT(choices(selection, 4, t0), ElementsAre(1u, 1u, 1u, 1u));  // no probe of 0 either
  EXPECT_THAT(selection.hedge_targets(1, Selection::kNone, t0), IsEmpty());
  // With the survivor in back-off, the removed one is still not the one "recovering first".
  selection.backoff_start(1, t0);
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0), 1u);
  selection.backoff_start(0, t0);
  EXPECT_EQ(selection.probe_at(0), TimePoint::max());

  EXPECT_EQ(selection.add(), 2u);
  EXPECT_EQ(selection.active(), 2u);
  EXPECT_EQ(selection.upstream_choose(Selection::kNone, t0), 2u);  // unmeasured, 1 backed off
  selection.restore(0);
  selection.backoff_clear_all();
  EXPECT_EQ(selection.active(), 3u);
  selection.rtt_add(2, milliseconds(20));
  // Its 5 ms kept: it is the choice again, but for one probe in two (probe_every 2).
  const auto picked = choices(selection, 4, t0);
  EXPECT_EQ(std::count(picked.begin(), picked.end(), 0u), 2) << ::testing::PrintToString(picked);
}

}  // namespace
}  // namespace dp::upstream
