// The per-name decisions of one configuration: the operator's local data, the built-in local
// zones left after the forward zones took theirs over, and the route table (zones/). Built at
// start and on every reload, then immutable and shared by every worker without locks.
#pragma once

#include "dns/local_zones.h"
#include "zones/local_data.h"
#include "zones/route_table.h"

namespace dp::proxy {

struct NameRoutes {
  zones::LocalData local_data;  // --local-data, --hosts: answered first
  zones::RouteTable table;      // forward zones and the built-in local zones' apexes
  dns::LocalZones local_zones = dns::LocalZones::none();

  // The built-in local zones alone (when `on`), nothing forwarded, no local data.
  static NameRoutes builtin(bool on);
};

}  // namespace dp::proxy
