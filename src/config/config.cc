#include "config/config.h"

#include "config/forward_zone.h"

namespace dp::config {

std::string UpstreamConfig::display() const { return server_display(address, auth_name); }

std::string ForwardZoneConfig::display() const {
  std::string out = zone + " " + std::string(zone_transport_name(transport));
  for (const UpstreamConfig& server : servers) out += " " + server.display();
  return out;
}

}  // namespace dp::config
