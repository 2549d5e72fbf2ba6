#include "metrics/counters.h"

#include <gtest/gtest.h>

#include <string>

#include "dns/message.h"
#include "tls/server_session.h"
#include "upstream/upstream.h"

namespace dp::metrics {
namespace {

// kLast must stay each enum's last value, or the arrays it sizes miss a counter: a value added
// after it gets a name (-Wswitch asks for one), which these catch.
template <class E, class Name>
void expect_last_is_last(Name name, const std::string& unnamed) {
  EXPECT_NE(name(E::kLast), unnamed);
  EXPECT_EQ(name(static_cast<E>(kEnumCount<E>)), unnamed);
}

TEST(MetricsCountersTest, EveryEnumThatSizesAnArrayEndsAtItsLast) {
  expect_last_is_last<dns::QueryError>(dns::query_error_name, "unknown");
  expect_last_is_last<upstream::UpstreamError>(upstream::upstream_error_name, "unknown");
  expect_last_is_last<tls::HandshakeFailure>(tls::handshake_failure_name, "tls");
  EXPECT_EQ(CountByEnum<dns::QueryError>{}.size(), 10u);
}

TEST(MetricsCountersTest, CountsAddScalarsAndArrays) {
  Count a = 2;
  count_add(a, 3);
  EXPECT_EQ(a, 5u);
  CountByEnum<upstream::UpstreamError> x{};
  CountByEnum<upstream::UpstreamError> y{};
  x[1] = 1;
  y[1] = 2;
  y[7] = 4;
  count_add(x, y);
  EXPECT_EQ(x[1], 3u);
  EXPECT_EQ(x[7], 4u);
}

}  // namespace
}  // namespace dp::metrics
