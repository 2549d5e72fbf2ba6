#include "proxy/route_tags.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace dp::proxy {
namespace {

TEST(ProxyRouteTagsTest, AZoneKeepsItsTagWhileItStaysAndAChangedOneGetsANewOne) {
  RouteTags tags;
  const std::uint16_t cluster = tags.tag_for("cluster.local tcp 10.96.0.10@53");
  const std::uint16_t corp = tags.tag_for("corp.example tls 10.8.0.53@853#dns.corp.example");
  EXPECT_NE(cluster, 0);  // 0 is the default upstreams'
  EXPECT_NE(corp, 0);
  EXPECT_NE(cluster, corp);
  tags.forget_unused();
  // Reload: cluster.local unchanged, corp.example moved to another server.
  EXPECT_EQ(tags.tag_for("cluster.local tcp 10.96.0.10@53"), cluster);
  const std::uint16_t moved = tags.tag_for("corp.example tls 10.8.0.54@853#dns.corp.example");
  EXPECT_NE(moved, corp);
  EXPECT_NE(moved, cluster);
  tags.forget_unused();
  // The old corp.example route was forgotten: coming back, it does not get its old tag (its
  // old entries may still be cached, and are from before a move).
  const std::uint16_t back = tags.tag_for("corp.example tls 10.8.0.53@853#dns.corp.example");
  EXPECT_NE(back, corp);
  EXPECT_NE(back, moved);
}

// A tag is never given twice, even to a route that comes and goes: once 16 bits are used up the
// reload is refused rather than a tag reused.
TEST(ProxyRouteTagsTest, ATagIsNeverGivenTwice) {
  RouteTags tags;
  std::set<std::uint16_t> seen;
  for (std::size_t i = 0; i < RouteTags::kMaxTags; ++i) {
    seen.insert(tags.tag_for("zone" + std::to_string(i)));
    tags.forget_unused();
  }
  EXPECT_EQ(seen.size(), RouteTags::kMaxTags);
  EXPECT_FALSE(seen.contains(0));
  EXPECT_THROW(tags.tag_for("one more"), std::length_error);
}

}  // namespace
}  // namespace dp::proxy
