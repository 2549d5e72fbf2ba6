// Special-use names answered on the host, never sent upstream: localhost and invalid
// (RFC 6761 §6.3, §6.4), home.arpa (RFC 8375) and the locally served reverse zones (RFC 6303).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dns/message.h"

namespace dp::dns {

// Which special-use zone a question falls in, and the answer dotproxy gives without asking
// upstream. Built once at start-up, then immutable: shared by all worker threads without locks.
//
// The zones hold only synthesized data, all of class IN, all with TTL kLocalTtl:
//   - every zone apex has an SOA (owner and MNAME the zone, RNAME nobody.invalid., serial 1,
//     3600 1200 604800 10800: RFC 6303 §3) and nothing else: NS and the rest are NODATA;
//   - localhost. and every name under it have A 127.0.0.1 and AAAA ::1 (RFC 6761 §6.3);
//   - 1.0.0.127.in-addr.arpa. and the ::1 reverse name have PTR localhost.;
//   - no other name exists: NXDOMAIN with the zone's SOA in the authority section (RFC 2308 §3).
// qtype ANY gets every record of the name. Classes other than IN and ANY get REFUSED: the
// name still never leaves the host.
class LocalZones {
 public:
  static constexpr std::uint32_t kLocalTtl = 10800;  // = RFC 6303 §3 SOA TTL and minimum

  // localhost., invalid., home.arpa. and the RFC 6303 §4 zones (list in local_zones.cc).
  static LocalZones defaults();
  // "Unless configured otherwise" (RFC 6303 abstract): nothing is local, everything goes upstream.
  static LocalZones none();
  // defaults() less the zones whose apex (lowercase wire form) is in `apexes_wire`: those a
  // forward zone took over. Apexes that are not default zones are ignored.
  static LocalZones defaults_except(const std::vector<std::string>& apexes_wire);
  // The apexes of defaults(), lowercase wire form, in the order of local_zones.cc's list.
  static std::vector<std::string> default_apexes();
  // localhost, invalid, 127.in-addr.arpa and the ::1 reverse zone: never taken over by a
  // forward zone (RFC 6761 §6.3, §6.4; the loopback addresses' names must stay on the host).
  static bool apex_always_local(std::string_view apex_wire);

  // The local reply for `query`: the client's ID, question bytes, RD and CD; QR, AA and RA
  // set; our OPT (DO copied) when the client sent EDNS, as reply_error does. Never larger than
  // 512 bytes. nullopt when the name is in no local zone. Does not allocate on a miss.
  std::optional<std::vector<std::uint8_t>> answer(const Query& query) const;

 private:
  enum class Kind {
    kLocalhost,  // every name exists with loopback A and AAAA
    kEmpty,      // only the apex (and ptr_name) exist
  };
  struct Zone {
    std::string name;  // lowercase wire form
    Kind kind = Kind::kEmpty;
    std::string ptr_name;  // lowercase wire form of a name in the zone with PTR localhost.
  };

  explicit LocalZones(std::vector<Zone> zones);
  static std::vector<Zone> default_zones();

  // The zone `qname_lower` is in (label-aligned suffix match), or nullptr.
  const Zone* zone_find(std::string_view qname_lower) const;

  std::vector<Zone> zones_;  // sorted by name length; no zone lies inside another
  // Index in zones_ of the first zone whose wire name has that size, zones_.size() if none:
  // most suffixes of most names stop at this one load.
  std::array<std::uint8_t, 256> first_of_size_{};
};

}  // namespace dp::dns
