#include "metrics/prometheus.h"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace dp::metrics {

prometheus::ClientMetric& Exposition::metric_add(std::string_view name, std::string_view help,
                                                 prometheus::MetricType type,
                                                 std::initializer_list<Label> labels) {
  // Samples of one family mostly come together: look from the last family back.
  const auto found =
      std::find_if(families_.rbegin(), families_.rend(),
                   [&](const prometheus::MetricFamily& f) { return f.name == name; });
  prometheus::MetricFamily* family = nullptr;
  if (found == families_.rend()) {
    family = &families_.emplace_back();
    family->name = name;
    family->type = type;
  } else {
    family = &*found;
  }
  if (family->help.empty()) family->help = help;
  prometheus::ClientMetric& metric = family->metric.emplace_back();
  metric.label.reserve(labels.size());
  for (const auto& [key, value] : labels)
    metric.label.push_back({std::string(key), std::string(value)});
  return metric;
}

void Exposition::sample(std::string_view name, std::string_view help,
                        std::initializer_list<Label> labels, double value) {
  const bool counter = name.ends_with("_total");
  prometheus::ClientMetric& metric =
      metric_add(name, help,
                 counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge, labels);
  (counter ? metric.counter.value : metric.gauge.value) = value;
}

void Exposition::histogram(std::string_view name, std::string_view help,
                           std::initializer_list<Label> labels, const LatencyHistogram& h) {
  prometheus::ClientMetric& metric =
      metric_add(name, help, prometheus::MetricType::Histogram, labels);
  auto& out = metric.histogram;
  out.bucket.reserve(LatencyHistogram::kBoundsUs.size());
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < LatencyHistogram::kBoundsUs.size(); ++i) {
    cumulative += h.bucket(i);
    out.bucket.push_back({cumulative, static_cast<double>(LatencyHistogram::kBoundsUs[i]) / 1e6});
  }
  out.sample_count = h.count();  // the serializer's +Inf bucket
  out.sample_sum = static_cast<double>(h.sum_us()) / 1e6;
}

std::string Exposition::text() const { return prometheus::TextSerializer().Serialize(families_); }

}  // namespace dp::metrics
