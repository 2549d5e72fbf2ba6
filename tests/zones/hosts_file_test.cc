#include "zones/hosts_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "zones/route_table.h"

namespace dp::zones {
namespace {

using ::testing::HasSubstr;

std::string wire(const std::string& name) { return name_text_to_wire(name); }
std::vector<std::uint8_t> bytes(const std::string& name) {
  const std::string w = wire(name);
  return {w.begin(), w.end()};
}

// "owner TYPE" for each record, to compare whole lists at once.
std::vector<std::string> summary(const std::vector<HostsRecord>& records) {
  std::vector<std::string> out;
  for (const HostsRecord& r : records) {
    out.push_back(name_wire_to_text(r.record.owner) + " " + std::to_string(r.record.type));
  }
  return out;
}

TEST(HostsFileTest, NamesGetAddressesAndAddressesTheFirstName) {
  const auto records = hosts_parse(
      "# a comment\n"
      "\n"
      "10.0.0.5\tprinter.lan   Printer  # trailing comment\n"
      "  fd00::1 nas.lan\n",
      "hosts");
  ASSERT_TRUE(records.has_value()) << records.error();
  EXPECT_THAT(
      summary(*records),
      ::testing::ElementsAre("printer.lan 1", "printer 1", "5.0.0.10.in-addr.arpa 12", "nas.lan 28",
                             "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f."
                             "ip6.arpa 12"));
  const auto& r = *records;
  EXPECT_EQ(r[0].record.rdata, (std::vector<std::uint8_t>{10, 0, 0, 5}));
  EXPECT_EQ(r[0].record.ttl, 3600u);
  EXPECT_EQ(r[1].record.owner, wire("printer"));  // lowercased
  EXPECT_EQ(r[2].record.rdata, bytes("printer.lan"));
  EXPECT_EQ(r[2].where, "hosts:3");
  std::vector<std::uint8_t> v6(16, 0);
  v6[0] = 0xfd;
  v6[15] = 1;
  EXPECT_EQ(r[3].record.rdata, v6);
  EXPECT_EQ(r[4].record.rdata, bytes("nas.lan"));
}

TEST(HostsFileTest, AnAddressGetsOnePtrFromItsFirstLine) {
  const auto records = hosts_parse("10.0.0.5 a.lan\n10.0.0.5 b.lan\n", "h");
  ASSERT_TRUE(records.has_value());
  EXPECT_THAT(summary(*records),
              ::testing::ElementsAre("a.lan 1", "5.0.0.10.in-addr.arpa 12", "b.lan 1"));
}

TEST(HostsFileTest, ReverseNames) {
  EXPECT_EQ(name_wire_to_text(reverse_name_wire({192, 0, 2, 1})), "1.2.0.192.in-addr.arpa");
  std::vector<std::uint8_t> v6 = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0x12};
  EXPECT_EQ(name_wire_to_text(reverse_name_wire(v6)),
            "2.1.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
}

TEST(HostsFileTest, ScopedIpv6AddressKeepsItsAddress) {
  const auto records = hosts_parse("fe80::1%eth0 router.lan\n", "h");
  ASSERT_TRUE(records.has_value()) << records.error();
  EXPECT_EQ((*records)[0].record.type, 28);
}

TEST(HostsFileTest, BadLinesNameFileAndLine) {
  EXPECT_EQ(hosts_parse("10.0.0.1 ok\n10.0.0.300 bad\n", "/etc/h").error(),
            "/etc/h:2: '10.0.0.300' is not an IP address");
  EXPECT_EQ(hosts_parse("printer.lan 10.0.0.1\n", "h").error(),
            "h:1: 'printer.lan' is not an IP address");
  EXPECT_EQ(hosts_parse("\n\n10.0.0.1   # no name\n", "h").error(),
            "h:3: '10.0.0.1' has no host name after it");
  EXPECT_THAT(hosts_parse("10.0.0.1 bad..name\n", "h").error(),
              HasSubstr("h:1: 'bad..name' is not a host name"));
  EXPECT_THAT(hosts_parse("10.0.0.1 sp@ce\n", "h").error(), HasSubstr("h:1: 'sp@ce'"));
}

TEST(HostsFileTest, UnreadableFileNamesIt) {
  const std::string missing = "/nonexistent-dotproxy-dir/hosts";
  EXPECT_EQ(hosts_file_read(missing).error(),
            "hosts: cannot read '" + missing + "': No such file or directory");
  EXPECT_THAT(hosts_file_read("/").error(), HasSubstr("is a directory"));
}

TEST(HostsFileTest, ReadsAFile) {
  const auto path = std::filesystem::temp_directory_path() / "dotproxy-hosts-test";
  std::ofstream(path) << "127.0.0.1 localhost\n::1 localhost ip6-localhost\n";
  const auto records = hosts_file_read(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(records.has_value()) << records.error();
  EXPECT_EQ(records->size(), 2u + 3u);
}

}  // namespace
}  // namespace dp::zones
