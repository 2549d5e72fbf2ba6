#include "dns/upstream_query.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/ldns_include.h"
#include "tests/dns/test_packets.h"

namespace dp::dns {
namespace {

using namespace ::dp::dns::testing;  // NOLINT: test helpers

TEST(DnsUpstreamQueryTest, IsPaddedAndLowercased) {
  for (const char* name : {"a.", "WwW.ExAmple.COM.",
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0."
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0."
                           "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0.XX."}) {
    PacketPtr client(ldns_pkt_query_new(ldns_dname_new_frm_str(name), LDNS_RR_TYPE_AAAA,
                                        LDNS_RR_CLASS_IN, LDNS_CD));
    ldns_pkt_set_edns_udp_size(client.get(), 4096);
    ldns_pkt_set_edns_do(client.get(), true);
    const Query query = parsed(to_wire(client.get()));
    const Bytes upstream = upstream_query_of(query);
    SCOPED_TRACE(name);
    EXPECT_EQ(upstream.size() % 128, 0u);
    const PacketPtr pkt = ldns_parse(upstream);
    ASSERT_NE(pkt, nullptr);
    EXPECT_EQ(ldns_pkt_id(pkt.get()), 0);
    EXPECT_TRUE(ldns_pkt_rd(pkt.get()));
    EXPECT_TRUE(ldns_pkt_cd(pkt.get()));
    EXPECT_FALSE(ldns_pkt_qr(pkt.get()));
    EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);
    EXPECT_TRUE(ldns_pkt_edns_do(pkt.get()));
    const ldns_rdf* owner = ldns_rr_owner(ldns_rr_list_rr(ldns_pkt_question(pkt.get()), 0));
    EXPECT_EQ(
        std::string(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner)),
        query.question.qname_lower);
    // Two options: an empty edns-tcp-keepalive (RFC 7828 §3.2.1), then padding (code 12)
    // filling the rest of the RDATA.
    const Bytes options = edns_data(pkt);
    ASSERT_GE(options.size(), 8u);
    EXPECT_EQ(u16(options, 0), 11);
    EXPECT_EQ(u16(options, 2), 0);
    EXPECT_EQ(u16(options, 4), 12);
    EXPECT_EQ(u16(options, 6), options.size() - 8);
  }
}

// A worker builds every upstream query into one buffer: nothing of a longer query before may
// show through.
TEST(DnsUpstreamQueryTest, BuildingIntoAReusedBufferEqualsBuildingAFreshOne) {
  const std::string label(40, 'x');
  const Query long_name =
      parsed(query_build(label + "." + label + "." + label + ".example.", LDNS_RR_TYPE_A));
  const Query short_name = parsed(plain_query());
  Bytes reused;
  upstream_query_build_into(long_name, reused);
  EXPECT_EQ(reused.size(), 256u);  // two padding blocks
  upstream_query_build_into(short_name, reused);
  EXPECT_EQ(reused, upstream_query_of(short_name));
  EXPECT_EQ(reused.size(), 128u);
}

// Plain forward zones (issue #15): over TCP keepalive but no padding, over UDP neither
// (RFC 7828 §3.2.1: keepalive MUST NOT be sent over UDP).
TEST(DnsUpstreamQueryTest, PlainTransportsGetKeepaliveOverTcpOnlyAndNoPadding) {
  const Query query = parsed(query_build("web.default.svc.cluster.local.", LDNS_RR_TYPE_A));
  Bytes tcp;
  upstream_query_build_into(query, tcp, UpstreamQueryShape{.keepalive = true, .padding = false});
  const Bytes tcp_options = edns_data(ldns_parse(tcp));
  ASSERT_EQ(tcp_options.size(), 4u);
  EXPECT_EQ(u16(tcp_options, 0), 11);
  Bytes udp;
  upstream_query_build_into(query, udp, UpstreamQueryShape{.keepalive = false, .padding = false});
  const PacketPtr pkt = ldns_parse(udp);
  EXPECT_TRUE(edns_data(pkt).empty());
  EXPECT_EQ(ldns_pkt_edns_udp_size(pkt.get()), 1232);  // still EDNS, with our UDP size
  EXPECT_EQ(udp.size(), tcp.size() - 4);
}

// We validate: DO=1 and CD=1 go upstream whatever the client asked (RFC 6840 §5.9).
TEST(DnsUpstreamQueryTest, TheDnssecShapeSetsDoAndCdForAClientWithNeither) {
  const Query query = parsed(query_build("www.example.com.", LDNS_RR_TYPE_A));
  ASSERT_FALSE(query.cd);
  ASSERT_FALSE(query.dnssec_ok);
  Bytes plain;
  upstream_query_build_into(query, plain);
  EXPECT_FALSE(ldns_pkt_cd(ldns_parse(plain).get()));
  EXPECT_FALSE(ldns_pkt_edns_do(ldns_parse(plain).get()));
  Bytes validating;
  upstream_query_build_into(query, validating, UpstreamQueryShape{.dnssec = true});
  EXPECT_TRUE(ldns_pkt_cd(ldns_parse(validating).get()));
  EXPECT_TRUE(ldns_pkt_edns_do(ldns_parse(validating).get()));
}

}  // namespace
}  // namespace dp::dns
