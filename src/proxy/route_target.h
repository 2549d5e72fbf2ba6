// Where a query that is not answered locally goes, and what its answers are allowed: the
// default DoT upstreams or one forward zone's servers (issue #15, DESIGN.md "router").
#pragma once

#include <cstdint>

#include "dns/stored_answer.h"
#include "dns/upstream_query.h"
#include "upstream/transport.h"
#include "upstream/upstream.h"

namespace dp::proxy {

// --dnssec (issue #16): what a route does with DNSSEC. kOff: the upstream's answers as they
// come (today's behaviour). kPermissive: validated, counted and logged, but a bogus answer is
// still served (AD=0), for rolling validation out. kValidate: a bogus answer is SERVFAIL.
enum class DnssecMode : std::uint8_t { kOff, kPermissive, kValidate };

// What a route's answers may do; copied into each flight, so a reload that changes the route
// never changes how an answer already on its way is handled.
struct RouteRules {
  std::uint16_t cache_tag = 0;  // in the cache key: 0 the default upstreams, each zone its own
  bool cache = true;            // false: answers are passed on, never cached (per zone)
  // An answer that came over plain DNS (tcp, udp): that hop authenticated nothing, so its AD
  // bit is not ours to pass on (RFC 6840 §5.8 trusts AD only over a secure channel).
  bool clear_ad = false;
  upstream::Transport transport = upstream::Transport::kTls;  // dnstap's socket_protocol
  dns::TtlPolicy ttl;  // the zone's own max_negative_ttl, else the global one
  // The EDNS options of its upstream queries: no keepalive over UDP (RFC 7828 §3.2.1), no
  // padding outside TLS (it hides nothing in clear).
  dns::UpstreamQueryShape query_shape;
  // Not kOff: query_shape.dnssec is set too (DO=1, CD=1 upstream). Forward zones are kOff
  // unless their table says dnssec = true.
  DnssecMode dnssec = DnssecMode::kOff;
};

// A route as the resolver meets it. `upstream` is the route's current pool: used while
// resolve() runs (and for a prefetch it starts), never kept.
struct RouteTarget {
  upstream::Upstream* upstream = nullptr;
  RouteRules rules;
};

}  // namespace dp::proxy
