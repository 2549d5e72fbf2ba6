#include "config/config.h"

namespace dp::config {

std::string UpstreamConfig::display() const { return server_display(address, auth_name); }

}  // namespace dp::config
