#include "upstream/rtt_estimator.h"

#include <gtest/gtest.h>

namespace dp::upstream {
namespace {

using us = std::chrono::microseconds;
const us kFloor{10'000};
const us kCeiling{1'000'000};
const us kUnknown{300'000};

TEST(UpstreamRttEstimatorTest, UnmeasuredUsesTheDefaultDelay) {
  RttEstimator rtt;
  EXPECT_FALSE(rtt.measured());
  EXPECT_EQ(rtt.hedge_delay(kFloor, kCeiling, kUnknown), kUnknown);
}

TEST(UpstreamRttEstimatorTest, FirstSampleSetsSrttAndHalfVariance) {
  RttEstimator rtt;
  rtt.add(us(20'000));
  EXPECT_EQ(rtt.srtt(), us(20'000));
  // srtt + 4 * (srtt / 2) = 3 * 20 ms (RFC 6298 §2.2).
  EXPECT_EQ(rtt.hedge_delay(kFloor, kCeiling, kUnknown), us(60'000));
}

TEST(UpstreamRttEstimatorTest, SmoothsTowardsNewSamplesAndClamps) {
  RttEstimator rtt;
  rtt.add(us(20'000));
  rtt.add(us(100'000));
  // srtt = 7/8 * 20 + 1/8 * 100 = 30 ms; rttvar = 3/4 * 10 + 1/4 * 80 = 27.5 ms.
  EXPECT_EQ(rtt.srtt(), us(30'000));
  EXPECT_EQ(rtt.hedge_delay(kFloor, kCeiling, kUnknown), us(140'000));
  for (int i = 0; i < 200; ++i) rtt.add(us(100));
  EXPECT_EQ(rtt.hedge_delay(kFloor, kCeiling, kUnknown), kFloor);  // never hedge at once
  for (int i = 0; i < 200; ++i) rtt.add(us(5'000'000));
  EXPECT_EQ(rtt.hedge_delay(kFloor, kCeiling, kUnknown), kCeiling);
}

}  // namespace
}  // namespace dp::upstream
