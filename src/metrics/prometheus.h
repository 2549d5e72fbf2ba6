// Prometheus text exposition format 0.0.4: families written one after another, each with its
// HELP and TYPE lines and then its samples, label values escaped.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include "metrics/histogram.h"

namespace dp::metrics {

using Label = std::pair<std::string_view, std::string_view>;

// Builds one scrape's text. Not thread-safe; one per scrape.
class PrometheusText {
 public:
  // Starts a family: "# HELP name help" and "# TYPE name type" (counter, gauge, histogram).
  void family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family; `suffix` for histogram parts ("_bucket", "_sum", ...).
  void sample(std::initializer_list<Label> labels, double value, std::string_view suffix = {});
  void sample(std::initializer_list<Label> labels, std::uint64_t value,
              std::string_view suffix = {});
  // The buckets, sum (in seconds) and count of a latency histogram, with `labels` on each.
  void histogram(std::initializer_list<Label> labels, const LatencyHistogram& h);

  const std::string& text() const { return out_; }

 private:
  void sample_start(std::initializer_list<Label> labels, std::string_view suffix,
                    std::string_view extra_key = {}, std::string_view extra_value = {});
  std::string out_;
  std::string name_;
};

// "\\", "\"" and newlines escaped, as label values need.
std::string label_escape(std::string_view value);

}  // namespace dp::metrics
