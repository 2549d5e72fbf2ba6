// The cache tag of each route (cache_key_build): 0 for the default upstreams, and for each
// forward zone one that stays the same across reloads while the zone's name, transport and
// servers do (its answers stay cached) and changes when they change (its old answers are never
// served again: issue #15, "a SIGHUP that moves a zone never serves the old route's answer").
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace dp::proxy {

// Owned by the Server; used on the thread that builds Settings (start, SIGHUP).
class RouteTags {
 public:
  static constexpr std::size_t kMaxTags = 65'535;  // 16 bits, 0 being the default upstreams'

  // The tag for a route described by `identity` (zone, transport and servers as text). Throws
  // std::length_error once 65,535 have been handed out (the reload is then rejected).
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
  std::size_t issued_ = 0;  // tags are 1, 2, ... in order, never reused
};

}  // namespace dp::proxy
