#include "metrics/prometheus.h"

#include <gtest/gtest.h>

#include "fakes/prometheus_parse.h"

namespace dp::metrics {
namespace {

TEST(MetricsPrometheusTest, FamiliesAreTypedByNameAndLabelsEscaped) {
  Exposition out;
  out.sample("x_total", "Things.", {{"kind", "a\"b\\c\nd"}}, 3);
  out.sample("level", "A level.", {}, -2.5);
  out.sample("x_total", "", {}, 1.5);  // back to the first family: its samples stay together
  EXPECT_EQ(out.text(),
            "# HELP x_total Things.\n# TYPE x_total counter\n"
            "x_total{kind=\"a\\\"b\\\\c\\nd\"} 3\nx_total 1.5\n"
            "# HELP level A level.\n# TYPE level gauge\nlevel -2.5\n");
  const auto parsed = testing::exposition_parse(out.text());
  EXPECT_EQ(parsed.error, "");
  EXPECT_EQ(parsed.value("x_total"), 1.5);
}

TEST(MetricsPrometheusTest, AFamilysHelpIsItsFirstNonEmptyOne) {
  Exposition out;
  out.sample("y_total", "", {{"k", "a"}}, 1);
  out.sample("y_total", "Ys.", {{"k", "b"}}, 2);
  out.sample("y_total", "Ignored.", {{"k", "c"}}, 3);
  EXPECT_EQ(out.text().rfind("# HELP y_total Ys.\n# TYPE y_total counter\n", 0), 0u) << out.text();
}

TEST(MetricsPrometheusTest, HistogramBucketsAreCumulativeWithSumAndCount) {
  LatencyHistogram h;
  h.observe(std::chrono::microseconds(100));    // <= 0.5 ms
  h.observe(std::chrono::microseconds(700));    // <= 1 ms
  h.observe(std::chrono::microseconds(9'000));  // <= 10 ms
  h.observe(std::chrono::seconds(60));          // +Inf
  Exposition out;
  out.histogram("lat_seconds", "Latency.", {{"upstream", "u1"}}, h);
  const auto parsed = testing::exposition_parse(out.text());
  ASSERT_EQ(parsed.error, "") << out.text();
  EXPECT_NE(out.text().find("# TYPE lat_seconds histogram\n"), std::string::npos);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"0.0005\"}"), 1);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"0.001\"}"), 2);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"0.0025\"}"), 2);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"0.01\"}"), 3);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"5\"}"), 3);
  EXPECT_EQ(parsed.value("lat_seconds_bucket{upstream=\"u1\",le=\"+Inf\"}"), 4);
  EXPECT_EQ(parsed.value("lat_seconds_count{upstream=\"u1\"}"), 4);
  EXPECT_NEAR(parsed.value("lat_seconds_sum{upstream=\"u1\"}"), 60.0098, 1e-3);
}

TEST(MetricsPrometheusTest, TheTestParserRejectsMalformedText) {
  EXPECT_NE(testing::exposition_parse("# TYPE a counter\nb 1\n").error, "");       // wrong family
  EXPECT_NE(testing::exposition_parse("# TYPE a counter\na{x=1} 1\n").error, "");  // unquoted
  EXPECT_NE(testing::exposition_parse("# TYPE a counter\na one\n").error, "");
}

}  // namespace
}  // namespace dp::metrics
