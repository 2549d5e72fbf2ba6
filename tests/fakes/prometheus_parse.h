// A strict reader of the Prometheus text exposition format (0.0.4) for tests: every line is a
// HELP, a TYPE or a sample of the family last typed, names and labels well formed, values
// numbers. Gives the samples by their full text key ("name{a=\"b\"}") for assertions.
#pragma once

#include <map>
#include <regex>
#include <sstream>
#include <string>

namespace dp::testing {

struct Exposition {
  std::map<std::string, double> samples;  // "dotproxy_queries_total{transport=\"udp\"}" -> 3
  std::string error;                      // empty when the text parsed

  double value(const std::string& key) const {
    const auto it = samples.find(key);
    return it == samples.end() ? -1 : it->second;
  }
};

inline Exposition exposition_parse(const std::string& text) {
  static const std::regex kHelp(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .*)");
  static const std::regex kType(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram))");
  static const std::regex kSample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? )"
      R"((-?[0-9.e+-]+|\+Inf|-Inf|NaN))");
  Exposition out;
  std::istringstream lines(text);
  std::string line;
  std::string family;
  std::string type;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    std::smatch m;
    const std::string where = "line " + std::to_string(number) + ": '" + line + "'";
    if (std::regex_match(line, m, kHelp)) continue;
    if (std::regex_match(line, m, kType)) {
      family = m[1];
      type = m[2];
      continue;
    }
    if (!std::regex_match(line, m, kSample)) {
      out.error = "not a sample: " + where;
      return out;
    }
    const std::string name = m[1];
    const bool belongs =
        name == family ||
        (type == "histogram" &&
         (name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
    if (!belongs) {
      out.error = "sample outside its family '" + family + "': " + where;
      return out;
    }
    const std::string key = line.substr(0, line.rfind(' '));
    if (out.samples.count(key) != 0) {
      out.error = "sample twice: " + where;
      return out;
    }
    const std::string value = line.substr(line.rfind(' ') + 1);
    out.samples[key] = value == "+Inf" ? 1e300 : std::stod(value);
  }
  return out;
}

}  // namespace dp::testing
