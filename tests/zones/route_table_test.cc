#include "zones/route_table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dns/local_zones.h"

namespace dp::zones {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using Kind = Route::Kind;

ForwardZoneEntry forward(const std::string& name) { return {name_text_to_wire(name), false}; }
ForwardZoneEntry upstream(const std::string& name) { return {name_text_to_wire(name), true}; }

Route find(const RouteTable& table, const std::string& name) {
  return table.route_find(name_text_to_wire(name));
}

constexpr Route kUpstream{};
Route fwd(std::uint16_t zone) { return Route{Kind::kForward, zone}; }
constexpr Route kLocal{Kind::kLocal, 0};

TEST(RouteTableTest, EmptyTableSendsEverythingUpstream) {
  const RouteTable table;
  EXPECT_EQ(find(table, "www.example.com"), kUpstream);
  EXPECT_EQ(find(table, "."), kUpstream);
  EXPECT_EQ(table.size(), 0u);
}

TEST(RouteTableTest, LongestMatchWinsWhateverTheOrder) {
  const std::vector<ForwardZoneEntry> a = {forward("example"), forward("corp.example"),
                                           forward("lab.corp.example")};
  const std::vector<ForwardZoneEntry> b = {forward("lab.corp.example"), forward("corp.example"),
                                           forward("example")};
  const RouteTable ta = route_table_build(a, {}).table;
  const RouteTable tb = route_table_build(b, {}).table;
  EXPECT_EQ(find(ta, "x.lab.corp.example"), fwd(2));
  EXPECT_EQ(find(tb, "x.lab.corp.example"), fwd(0));
  EXPECT_EQ(find(ta, "lab.corp.example"), fwd(2));
  EXPECT_EQ(find(ta, "www.corp.example"), fwd(1));
  EXPECT_EQ(find(tb, "www.corp.example"), fwd(1));
  EXPECT_EQ(find(ta, "other.example"), fwd(0));
  EXPECT_EQ(find(tb, "other.example"), fwd(2));
  EXPECT_EQ(find(ta, "example.com"), kUpstream);
  EXPECT_EQ(find(ta, "."), kUpstream);
}

TEST(RouteTableTest, MatchIsLabelAligned) {
  const RouteTable table = route_table_build({forward("cluster.local")}, {}).table;
  EXPECT_EQ(find(table, "cluster.local"), fwd(0));
  EXPECT_EQ(find(table, "svc.cluster.local"), fwd(0));
  EXPECT_EQ(find(table, "xcluster.local"), kUpstream);
  EXPECT_EQ(find(table, "x.xcluster.local"), kUpstream);
  EXPECT_EQ(find(table, "local"), kUpstream);
  EXPECT_EQ(find(table, "cluster.local.evil"), kUpstream);
}

TEST(RouteTableTest, CaseInsensitiveAndTrailingDotIgnoredWhenBuilt) {
  const RouteTable table = route_table_build({forward("Cluster.LOCAL.")}, {}).table;
  EXPECT_EQ(find(table, "a.cluster.local"), fwd(0));
  EXPECT_EQ(find(table, "a.cluster.local."), fwd(0));
  // Queries come lowercased (dns::Question::qname_lower); name_text_to_wire lowers too.
  EXPECT_EQ(find(table, "A.CLUSTER.Local"), fwd(0));
}

TEST(RouteTableTest, UpstreamExceptionInsideAForwardedZone) {
  const RouteTable table =
      route_table_build({forward("corp.example"), upstream("www.corp.example")}, {}).table;
  EXPECT_EQ(find(table, "intranet.corp.example"), fwd(0));
  EXPECT_EQ(find(table, "www.corp.example"), kUpstream);
  EXPECT_EQ(find(table, "cdn.www.corp.example"), kUpstream);
}

TEST(RouteTableTest, ForwardInsideAnUpstreamExceptionWinsAgain) {
  const RouteTable table = route_table_build({upstream("www.corp.example"), forward("corp.example"),
                                              forward("int.www.corp.example")},
                                             {})
                               .table;
  EXPECT_EQ(find(table, "a.int.www.corp.example"), fwd(2));
  EXPECT_EQ(find(table, "a.www.corp.example"), kUpstream);
  EXPECT_EQ(find(table, "a.corp.example"), fwd(1));
}

TEST(RouteTableTest, BuiltInZonesAreLocal) {
  const auto build = route_table_build({}, dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "localhost"), kLocal);
  EXPECT_EQ(find(build.table, "a.b.localhost"), kLocal);
  EXPECT_EQ(find(build.table, "5.0.0.10.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(build.table, "1.0.0.127.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(build.table, "8.8.8.8.in-addr.arpa"), kUpstream);
  EXPECT_EQ(find(build.table, "www.example.com"), kUpstream);
}

TEST(RouteTableTest, ForwardZoneTakesOverBuiltInReverseZone) {
  const auto build =
      route_table_build({forward("10.in-addr.arpa")}, dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "5.0.0.10.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "10.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "1.0.0.127.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(build.table, "1.1.168.192.in-addr.arpa"), kLocal);
  ASSERT_EQ(build.taken_over.size(), 1u);
  EXPECT_THAT(build.taken_over[0], ElementsAre(name_text_to_wire("10.in-addr.arpa")));
}

TEST(RouteTableTest, ForwardAboveBuiltInZonesTakesThemAllButLoopback) {
  const auto build = route_table_build({forward("in-addr.arpa"), forward("cluster.local")},
                                       dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "5.0.0.10.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "1.1.168.192.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "8.8.8.8.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "1.0.0.127.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(build.table, "127.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(build.table, "localhost"), kLocal);
  // 10, 16..31.172, 168.192, 0, 254.169, three TEST-NETs and the broadcast name.
  EXPECT_EQ(build.taken_over[0].size(), 1u + 16u + 1u + 1u + 1u + 3u + 1u);
  EXPECT_THAT(build.taken_over[1], IsEmpty());
  const auto& taken = build.taken_over[0];
  EXPECT_EQ(std::count(taken.begin(), taken.end(), name_text_to_wire("127.in-addr.arpa")), 0);
}

// `in-addr.arpa upstream` must not hand the private reverse zones to the public upstreams; inside
// a forwarded in-addr.arpa, an explicit exception still goes upstream.
TEST(RouteTableTest, AnUpstreamExceptionTakesOverNoBuiltInZone) {
  const auto alone =
      route_table_build({upstream("in-addr.arpa")}, dns::LocalZones::default_apexes());
  EXPECT_EQ(find(alone.table, "5.0.0.10.in-addr.arpa"), kLocal);
  EXPECT_EQ(find(alone.table, "8.8.8.8.in-addr.arpa"), kUpstream);
  EXPECT_THAT(alone.taken_over[0], IsEmpty());
  const auto nested = route_table_build({forward("in-addr.arpa"), upstream("168.192.in-addr.arpa")},
                                        dns::LocalZones::default_apexes());
  EXPECT_EQ(find(nested.table, "5.0.0.10.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(nested.table, "1.1.168.192.in-addr.arpa"), kUpstream);
}

TEST(RouteTableTest, TakenOverZoneGoesToTheLongestForwardZone) {
  const auto build = route_table_build({forward("in-addr.arpa"), forward("10.in-addr.arpa")},
                                       dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "5.0.0.10.in-addr.arpa"), fwd(1));
  const auto& outer = build.taken_over[0];
  EXPECT_EQ(std::count(outer.begin(), outer.end(), name_text_to_wire("10.in-addr.arpa")), 0);
  EXPECT_THAT(build.taken_over[1], ElementsAre(name_text_to_wire("10.in-addr.arpa")));
}

TEST(RouteTableTest, ForwardZoneBelowABuiltInZoneLeavesTheRestLocal) {
  const auto build =
      route_table_build({forward("96.10.in-addr.arpa")}, dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "1.0.96.10.in-addr.arpa"), fwd(0));
  EXPECT_EQ(find(build.table, "1.0.97.10.in-addr.arpa"), kLocal);
  EXPECT_THAT(build.taken_over[0], IsEmpty());
}

TEST(RouteTableTest, LocalZonesLoseWhatWasTakenOver) {
  // ldns-free check of the LocalZones built: taken-over apexes no longer answer here.
  const auto kept =
      route_table_build({forward("10.in-addr.arpa")}, dns::LocalZones::default_apexes());
  dns::Query query;
  query.question.qname_lower = name_text_to_wire("10.in-addr.arpa");
  query.question.qtype = 6;
  query.question.qclass = 1;
  query.question_wire = query.question.qname_lower + std::string("\x00\x06\x00\x01", 4);
  EXPECT_FALSE(kept.local_zones.answer(query).has_value());
  query.question.qname_lower = name_text_to_wire("168.192.in-addr.arpa");
  query.question_wire = query.question.qname_lower + std::string("\x00\x06\x00\x01", 4);
  EXPECT_TRUE(kept.local_zones.answer(query).has_value());
}

TEST(RouteTableTest, NoBuiltInZonesWhenTheyAreOff) {
  const auto build = route_table_build({forward("cluster.local")}, {});
  EXPECT_EQ(find(build.table, "localhost"), kUpstream);
  EXPECT_EQ(find(build.table, "5.0.0.10.in-addr.arpa"), kUpstream);
  dns::Query query;
  query.question.qname_lower = name_text_to_wire("localhost");
  query.question.qtype = 1;
  query.question.qclass = 1;
  query.question_wire = query.question.qname_lower + std::string("\x00\x01\x00\x01", 4);
  EXPECT_FALSE(build.local_zones.answer(query).has_value());
}

TEST(RouteTableTest, ForwardZoneUnderAnAlwaysLocalZoneIsLeftOut) {
  const auto build = route_table_build({forward("foo.localhost"), forward("127.in-addr.arpa")},
                                       dns::LocalZones::default_apexes());
  EXPECT_EQ(find(build.table, "a.foo.localhost"), kLocal);
  EXPECT_EQ(find(build.table, "1.0.0.127.in-addr.arpa"), kLocal);
  EXPECT_THAT(build.taken_over[1], IsEmpty());
}

TEST(RouteTableTest, FirstOfTwoEqualNamesIsKept) {
  const RouteTable table =
      route_table_build({forward("corp.example"), upstream("CORP.example.")}, {}).table;
  EXPECT_EQ(find(table, "a.corp.example"), fwd(0));
  EXPECT_EQ(table.size(), 1u);
}

TEST(RouteTableTest, ManyZonesAllFound) {
  std::vector<ForwardZoneEntry> zones;
  for (int i = 0; i < 10'000; ++i) zones.push_back(forward("z" + std::to_string(i) + ".example"));
  const RouteTable table = route_table_build(zones, {}).table;
  EXPECT_EQ(table.size(), 10'000u);
  for (int i = 0; i < 10'000; i += 97) {
    EXPECT_EQ(find(table, "www.z" + std::to_string(i) + ".example"),
              fwd(static_cast<std::uint16_t>(i)));
  }
  EXPECT_EQ(find(table, "www.z10000.example"), kUpstream);
  EXPECT_EQ(find(table, "example"), kUpstream);
}

TEST(RouteTableTest, MalformedNameDoesNotReadPastItsEnd) {
  const RouteTable table = route_table_build({forward("example")}, {}).table;
  EXPECT_EQ(table.route_find(std::string("\x05"
                                         "ab",
                                         3)),
            kUpstream);
  EXPECT_EQ(table.route_find(std::string_view()), kUpstream);
}

TEST(RouteTableTest, NameTextAndWire) {
  EXPECT_EQ(name_text_to_wire("A.b"), std::string("\x01"
                                                  "a\x01"
                                                  "b\x00",
                                                  5));
  EXPECT_EQ(name_text_to_wire("."), std::string("\x00", 1));
  EXPECT_EQ(name_wire_to_text(name_text_to_wire("cluster.local.")), "cluster.local");
  EXPECT_EQ(name_wire_to_text(std::string("\x00", 1)), ".");
}

}  // namespace
}  // namespace dp::zones
