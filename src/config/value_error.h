// The error a value parser throws: only the reason ("'abc' is not a duration"); the loader adds
// where the value came from (--flag, ENV_NAME or file:line: key).
#pragma once

#include <stdexcept>

namespace dp::config {

class ValueError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace dp::config
