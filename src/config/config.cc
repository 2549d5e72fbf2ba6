#include "config/config.h"

namespace dp::config {

std::string UpstreamConfig::display() const {
  // Brackets keep a v6 address readable next to '@' and match what upstream_spec_parse takes.
  std::string out =
      address.family() == AF_INET6 ? "[" + address.ip_string() + "]" : address.ip_string();
  out += "@" + std::to_string(address.port());
  if (!auth_name.empty()) out += "#" + auth_name;
  return out;
}

}  // namespace dp::config
