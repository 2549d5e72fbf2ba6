#include "metrics/prometheus.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

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

namespace {

void json_string_append(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte < 0x20 || byte >= 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(byte));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

void json_number_append(std::string& out, double value) {
  if (!std::isfinite(value)) {
    out += "null";
    return;
  }
  char text[32];
  if (value == std::floor(value) && std::fabs(value) < 9.007199254740992e15) {
    std::snprintf(text, sizeof text, "%.0f", value);
  } else {
    std::snprintf(text, sizeof text, "%.17g", value);
  }
  out += text;
}

double metric_value(const prometheus::MetricFamily& family, const prometheus::ClientMetric& m) {
  return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
}

}  // namespace

std::string Exposition::json() const {
  std::string out = "{";
  bool first_family = true;
  for (const prometheus::MetricFamily& family : families_) {
    if (!first_family) out += ',';
    first_family = false;
    json_string_append(out, family.name);
    out += ':';
    const bool histogram = family.type == prometheus::MetricType::Histogram;
    if (!histogram && family.metric.size() == 1 && family.metric[0].label.empty()) {
      json_number_append(out, metric_value(family, family.metric[0]));
      continue;
    }
    out += '[';
    bool first = true;
    for (const prometheus::ClientMetric& metric : family.metric) {
      if (!first) out += ',';
      first = false;
      out += "{\"labels\":{";
      for (std::size_t i = 0; i < metric.label.size(); ++i) {
        if (i > 0) out += ',';
        json_string_append(out, metric.label[i].name);
        out += ':';
        json_string_append(out, metric.label[i].value);
      }
      out += '}';
      if (histogram) {
        out += ",\"count\":";
        json_number_append(out, static_cast<double>(metric.histogram.sample_count));
        out += ",\"sum\":";
        json_number_append(out, metric.histogram.sample_sum);
      } else {
        out += ",\"value\":";
        json_number_append(out, metric_value(family, metric));
      }
      out += '}';
    }
    out += ']';
  }
  out += '}';
  return out;
}

std::string Exposition::text() const { return prometheus::TextSerializer().Serialize(families_); }

}  // namespace dp::metrics
