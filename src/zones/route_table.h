// Where each query name goes, decided once per query by one longest-suffix lookup: a forward
// zone's servers, the built-in local zones, or the default upstreams. Pure and immutable, built
// from the configuration at start and on every reload; policy (ACL, blocklist) is not here.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dns/local_zones.h"

namespace dp::zones {

struct Route {
  enum class Kind : std::uint8_t {
    kUpstream,  // the default upstreams: nothing matched, or a zone with transport upstream
    kForward,   // forward zone number `zone` of the list the table was built from
    kLocal,     // answered by the built-in local zones (dns::LocalZones)
  };
  Kind kind = Kind::kUpstream;
  std::uint16_t zone = 0;  // kForward only

  friend bool operator==(const Route&, const Route&) = default;
};

struct ForwardZoneEntry;
struct RouteTableBuild;

// Label-aligned suffix table: the longest zone that is the name or one of its ancestors wins,
// whatever the order it was given in ("xcluster.local" is not under "cluster.local").
// Immutable after route_table_build(); shared by all workers without locks.
class RouteTable {
 public:
  RouteTable() = default;  // no zones: everything goes to the default upstreams

  // The route of `qname_lower_wire`, an uncompressed lowercase wire name (dns::Question's
  // qname_lower). Does not allocate; a malformed name gets the route of its well-formed part.
  Route route_find(std::string_view qname_lower_wire) const;

  std::size_t size() const { return count_; }  // zones in the table

 private:
  friend RouteTableBuild route_table_build(const std::vector<ForwardZoneEntry>& forward_zones,
                                           const std::vector<std::string>& builtin_apexes_wire);

  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t offset = 0;  // of the name in names_
    std::uint16_t size = 0;    // 0: empty slot (no wire name is empty)
    Route route;
  };

  // Adds or replaces the route of one zone (lowercase wire name).
  void insert(std::string_view name_wire, Route route);
  void slots_grow();

  std::vector<Slot> slots_;  // open addressing, linear probing, power-of-two size, <= 50% full
  std::string names_;        // every zone's wire name, back to back
  std::size_t count_ = 0;
  // Bit n: some zone's wire name is n bytes long. Most suffixes of most names are skipped
  // on this one test, without hashing.
  std::array<std::uint64_t, 4> sizes_{};
};

// One entry of the forward zone list, in the order of the configuration.
struct ForwardZoneEntry {
  std::string name_wire;  // lowercase wire form, e.g. "\x07cluster\x05local\x00"
  bool upstream = false;  // transport upstream: back to the default upstreams
};

struct RouteTableBuild {
  RouteTable table;
  // The built-in zones still answered here: the defaults less those taken over.
  dns::LocalZones local_zones = dns::LocalZones::none();
  // Per forward zone (same index): the built-in apexes (wire form) it took over, for one log
  // line per zone. A built-in zone goes to the longest forward zone at or above it.
  std::vector<std::vector<std::string>> taken_over;
};

// `builtin_apexes_wire`: the built-in local zones in force (dns::LocalZones::default_apexes(),
// or none when --local-zones is off). A forward zone takes over the built-in zones at and below
// its apex, except the ones dns::LocalZones::apex_always_local() names, which stay local; a
// forward zone at or under one of those (the configuration refuses them) is left out of the
// table. Of two entries with the same name, the first is kept.
RouteTableBuild route_table_build(const std::vector<ForwardZoneEntry>& forward_zones,
                                  const std::vector<std::string>& builtin_apexes_wire);

// "cluster.local" -> "\x07cluster\x05local\x00", lowercased; "" or "." -> "\x00". For names the
// configuration has checked (labels of 1..63 bytes, at most 255 in all).
std::string name_text_to_wire(std::string_view text);
// "\x07cluster\x05local\x00" -> "cluster.local" (the root: "."), for logs.
std::string name_wire_to_text(std::string_view wire);

}  // namespace dp::zones
