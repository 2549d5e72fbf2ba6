// The cache tag of each route (cache_key_build): 0 for the default upstreams, and for each
// forward zone one that stays the same across reloads while the zone's name, transport and
// servers do (its answers stay cached) and changes when they change (its old answers are never
// served again: issue #15, "a SIGHUP that moves a zone never serves the old route's answer").
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace dp::proxy {

// Owned by the Server; used on the thread that builds Settings (start, SIGHUP).
class RouteTags {
 public:
  static constexpr std::size_t kMaxTags = 65'535;  // 16 bits, 0 being the default upstreams'

  // The tag for a route described by `identity` (zone, transport and servers as text). Throws
  // std::length_error when every tag is in use.
  std::uint16_t tag_for(const std::string& identity);

  // Forgets every identity not asked for since the last call (routes a reload removed), so
  // the map holds the current routes only.
  void forget_unused();

 private:
  struct Held {
    std::uint16_t tag = 0;
    bool used = false;
  };
  std::map<std::string, Held> tags_;
  std::set<std::uint16_t> in_use_;  // the tags of tags_
  // Tags are handed out in sequence and wrap after 65,535; a wrapped tag skips those in use.
  // An old route's entries are long expired by then (max TTL + max stale: 2 days by default)
  // unless 65,535 route changes came within that time.
  std::uint16_t next_ = 1;
};

}  // namespace dp::proxy
