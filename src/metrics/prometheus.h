// Prometheus text exposition format 0.0.4 through prometheus-cpp: one scrape's families built
// from plain per-worker sums (no prometheus-cpp metric objects, so no atomics on the hot path),
// then written by its TextSerializer.
#pragma once

#include <prometheus/metric_family.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace dp::metrics {

using Label = std::pair<std::string_view, std::string_view>;

// Builds one scrape's text. Not thread-safe; one per scrape.
class Exposition {
 public:
  // One sample of family `name`, typed by its name: a counter when it ends in _total, else a
  // gauge. The family is made at its first sample, with the first non-empty `help` (our own
  // fixed strings: prometheus-cpp 1.0 writes HELP without escaping).
  void sample(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
              double value);
  // The buckets, sum (in seconds) and count of a latency histogram, with `labels` on each.
  void histogram(std::string_view name, std::string_view help, std::initializer_list<Label> labels,
                 const LatencyHistogram& h);

  std::string text() const;
  // The same samples as one JSON object (for `dotproxy ctl stats`): each family by name, a
  // number when it is one sample without labels, else an array of {"labels": {...}, "value":
  // N} (histograms: "count" and "sum" instead of "value").
  std::string json() const;

 private:
  prometheus::ClientMetric& metric_add(std::string_view name, std::string_view help,
                                       prometheus::MetricType type,
                                       std::initializer_list<Label> labels);
  std::vector<prometheus::MetricFamily> families_;
};

}  // namespace dp::metrics
