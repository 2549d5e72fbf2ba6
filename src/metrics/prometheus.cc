#include "metrics/prometheus.h"

#include <cmath>
#include <cstdio>

namespace dp::metrics {

std::string label_escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  name_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;  // our own fixed strings: no newlines or backslashes
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusText::sample_start(std::initializer_list<Label> labels, std::string_view suffix,
                                  std::string_view extra_key, std::string_view extra_value) {
  out_ += name_;
  out_ += suffix;
  if (labels.size() == 0 && extra_key.empty()) {
    out_ += ' ';
    return;
  }
  out_ += '{';
  bool first = true;
  const auto put = [&](std::string_view key, std::string_view value) {
    if (!first) out_ += ',';
    first = false;
    out_ += key;
    out_ += "=\"";
    out_ += label_escape(value);
    out_ += '"';
  };
  for (const auto& [key, value] : labels) put(key, value);
  if (!extra_key.empty()) put(extra_key, extra_value);
  out_ += "} ";
}

void PrometheusText::sample(std::initializer_list<Label> labels, std::uint64_t value,
                            std::string_view suffix) {
  sample_start(labels, suffix);
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusText::sample(std::initializer_list<Label> labels, double value,
                            std::string_view suffix) {
  sample_start(labels, suffix);
  if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else if (std::isnan(value)) {
    out_ += "NaN";
  } else {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.6g", value);
    out_ += buf;
  }
  out_ += '\n';
}

void PrometheusText::histogram(std::initializer_list<Label> labels, const LatencyHistogram& h) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= LatencyHistogram::kBoundsUs.size(); ++i) {
    cumulative += h.bucket(i);
    std::string le = "+Inf";
    if (i < LatencyHistogram::kBoundsUs.size()) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g",
                    static_cast<double>(LatencyHistogram::kBoundsUs[i]) / 1e6);
      le = buf;
    }
    sample_start(labels, "_bucket", "le", le);
    out_ += std::to_string(cumulative);
    out_ += '\n';
  }
  sample(labels, static_cast<double>(h.sum_us()) / 1e6, "_sum");
  sample(labels, h.count(), "_count");
}

}  // namespace dp::metrics
