#include "proxy/name_routes.h"

namespace dp::proxy {

NameRoutes NameRoutes::builtin(bool on) {
  zones::RouteTableBuild built = zones::route_table_build(
      {}, on ? dns::LocalZones::default_apexes() : std::vector<std::string>{});
  return NameRoutes{zones::LocalData{}, std::move(built.table), std::move(built.local_zones)};
}

}  // namespace dp::proxy
