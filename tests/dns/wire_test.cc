#include "dns/wire.h"

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

TEST(DnsWireTest, HeaderAccessors) {
  Bytes wire = plain_query();
  EXPECT_EQ(wire_get_id(wire), 0xbeef);
  wire_set_id(wire, 0x0102);
  EXPECT_EQ(wire[0], 1);
  EXPECT_EQ(wire[1], 2);
  wire[3] = 0x83;
  EXPECT_EQ(wire_get_rcode(wire), Rcode::kNxDomain);
  Bytes one = {7};
  wire_set_id(one, 5);  // too short: left alone
  EXPECT_EQ(one[0], 7);
  EXPECT_EQ(wire_get_id(one), 0);
}

TEST(DnsWireTest, U32ReadWriteAppendAreBigEndian) {
  Bytes wire = {0, 0, 0, 0, 0};
  wire::write_u32(wire, 1, 0x01020304);
  EXPECT_EQ(wire, (Bytes{0, 1, 2, 3, 4}));
  EXPECT_EQ(wire::read_u32(wire, 1), 0x01020304u);
  wire::append_u32(wire, 0xa0b0c0d0);
  EXPECT_EQ(wire::read_u32(wire, 5), 0xa0b0c0d0u);
  EXPECT_EQ(wire.size(), 9u);
}

}  // namespace
}  // namespace dp::dns
