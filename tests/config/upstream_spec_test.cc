#include "config/upstream_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "config/value_error.h"

namespace dp::config {
namespace {

using ::testing::HasSubstr;

std::string parse_error(std::string_view spec) {
  try {
    const UpstreamConfig u = upstream_spec_parse(spec);
    ADD_FAILURE() << "'" << spec << "' parsed as " << u.display();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "";
}

TEST(ConfigUpstreamSpecTest, Ipv4AloneGetsPort853AndNoName) {
  const UpstreamConfig u = upstream_spec_parse("9.9.9.9");
  EXPECT_EQ(u.address.to_string(), "9.9.9.9:853");
  EXPECT_EQ(u.auth_name, "");
  EXPECT_EQ(u.display(), "9.9.9.9@853");
}

TEST(ConfigUpstreamSpecTest, Ipv4WithPortAndName) {
  const UpstreamConfig u = upstream_spec_parse("1.1.1.1@8853#cloudflare-dns.com");
  EXPECT_EQ(u.address.to_string(), "1.1.1.1:8853");
  EXPECT_EQ(u.auth_name, "cloudflare-dns.com");
}

TEST(ConfigUpstreamSpecTest, Ipv4WithNameOnly) {
  const UpstreamConfig u = upstream_spec_parse("1.0.0.1#one.one.one.one");
  EXPECT_EQ(u.address.to_string(), "1.0.0.1:853");
  EXPECT_EQ(u.auth_name, "one.one.one.one");
}

TEST(ConfigUpstreamSpecTest, BracketedIpv6WithPortAndName) {
  const UpstreamConfig u = upstream_spec_parse("[2606:4700:4700::1111]@853#cloudflare-dns.com");
  EXPECT_EQ(u.address.family(), AF_INET6);
  EXPECT_EQ(u.address.to_string(), "[2606:4700:4700::1111]:853");
  EXPECT_EQ(u.auth_name, "cloudflare-dns.com");
}

TEST(ConfigUpstreamSpecTest, BareIpv6WithName) {
  const UpstreamConfig u = upstream_spec_parse("2606:4700::1111#name");
  EXPECT_EQ(u.address.to_string(), "[2606:4700::1111]:853");
  EXPECT_EQ(u.auth_name, "name");
}

TEST(ConfigUpstreamSpecTest, BareIpv6WithPortIsUnambiguous) {
  const UpstreamConfig u = upstream_spec_parse("::1@8853");
  EXPECT_EQ(u.address.to_string(), "[::1]:8853");
  EXPECT_EQ(upstream_spec_parse("[::1]").address.to_string(), "[::1]:853");
}

TEST(ConfigUpstreamSpecTest, DisplayRoundTrips) {
  for (const char* spec :
       {"1.1.1.1@853#cloudflare-dns.com", "[2001:db8::53]@10853#dns.example", "192.0.2.1@853"}) {
    EXPECT_EQ(upstream_spec_parse(spec).display(), spec);
    EXPECT_EQ(upstream_spec_parse(upstream_spec_parse(spec).display()).display(), spec);
  }
}

TEST(ConfigUpstreamSpecTest, EmptyIsAnError) {
  EXPECT_THAT(parse_error(""), HasSubstr("empty upstream (expected ADDR[@PORT][#AUTH_NAME])"));
}

TEST(ConfigUpstreamSpecTest, BadPorts) {
  EXPECT_EQ(parse_error("1.1.1.1@99999"), "'1.1.1.1@99999': port '99999' is not from 1 to 65535");
  EXPECT_THAT(parse_error("1.1.1.1@0"), HasSubstr("port '0' is not from 1 to 65535"));
  EXPECT_THAT(parse_error("1.1.1.1@"), HasSubstr("port '' is not from 1 to 65535"));
  EXPECT_THAT(parse_error("1.1.1.1@abc"), HasSubstr("port 'abc'"));
  EXPECT_THAT(parse_error("1.1.1.1@-1"), HasSubstr("port '-1'"));
  EXPECT_THAT(parse_error("1.1.1.1@853@853"), HasSubstr("port '853@853'"));
}

TEST(ConfigUpstreamSpecTest, BadAddresses) {
  EXPECT_THAT(parse_error("dns.example"), HasSubstr("'dns.example' is not an IP address"));
  EXPECT_THAT(parse_error("@853"), HasSubstr("'' is not an IP address"));
  EXPECT_THAT(parse_error("#name"), HasSubstr("'' is not an IP address"));
  EXPECT_THAT(parse_error("[1.1.1.1]"), HasSubstr("'[1.1.1.1]' is not an IP address"));
  EXPECT_THAT(parse_error("[::1"), HasSubstr("'[::1' is not an IP address"));
  EXPECT_THAT(parse_error("1.1.1.256"), HasSubstr("is not an IP address"));
}

TEST(ConfigUpstreamSpecTest, ColonPortGetsAHint) {
  EXPECT_THAT(parse_error("1.1.1.1:853"), HasSubstr("put the port after '@'"));
  EXPECT_THAT(parse_error("[::1]:853"), HasSubstr("put the port after '@'"));
  EXPECT_THAT(parse_error("dns.example"), ::testing::Not(HasSubstr("after '@'")));
}

TEST(ConfigUpstreamSpecTest, BadAuthNames) {
  EXPECT_THAT(parse_error("1.1.1.1#"), HasSubstr("'' is not a host name"));
  EXPECT_THAT(parse_error("1.1.1.1#bad_name"), HasSubstr("'bad_name' is not a host name"));
  EXPECT_THAT(parse_error("1.1.1.1#a..b"), HasSubstr("is not a host name"));
  EXPECT_THAT(parse_error("1.1.1.1#name#more"), HasSubstr("'name#more' is not a host name"));
}

TEST(ConfigUpstreamSpecTest, HostnamePlausible) {
  EXPECT_TRUE(hostname_plausible("cloudflare-dns.com"));
  EXPECT_TRUE(hostname_plausible("DNS9.Quad9.net"));
  EXPECT_TRUE(hostname_plausible("localhost"));
  EXPECT_TRUE(hostname_plausible(std::string(63, 'a') + ".example"));
  EXPECT_FALSE(hostname_plausible(std::string(64, 'a') + ".example"));
  std::string longest;  // 4 labels of 63 plus 3 dots = 255; trim to 253
  for (int i = 0; i < 4; ++i) longest += (i ? "." : "") + std::string(63, 'a');
  EXPECT_FALSE(hostname_plausible(longest));
  longest.resize(253);
  EXPECT_TRUE(hostname_plausible(longest));
  for (const char* bad : {"", ".", "a.", ".a", "a..b", "a b", "a_b", "a/b", "é.example"}) {
    EXPECT_FALSE(hostname_plausible(bad)) << bad;
  }
}

}  // namespace
}  // namespace dp::config
