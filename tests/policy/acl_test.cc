#include "policy/acl.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dp::policy {
namespace {

SocketAddress ip(const char* text) {
  auto a = SocketAddress::from_ip(text, 53);
  EXPECT_TRUE(a) << text;
  return a.value_or(SocketAddress{});
}

Acl acl_of(std::initializer_list<const char*> texts) {
  std::vector<AclRule> rules;
  for (const char* t : texts) {
    auto r = acl_rule_parse(t);
    EXPECT_TRUE(r) << t << ": " << (r ? "" : r.error());
    if (r) rules.push_back(*r);
  }
  return Acl(std::move(rules));
}

std::string parse_error(const char* text) {
  auto r = acl_rule_parse(text);
  EXPECT_FALSE(r) << text << " parsed as " << (r ? acl_rule_format(*r) : "");
  return r ? std::string() : r.error();
}

TEST(PolicyAclTest, ParsesGoodRulesToCanonicalForm) {
  const std::pair<const char*, const char*> cases[] = {
      {"10.0.0.0/8 allow", "10.0.0.0/8 allow"},
      {"192.0.2.7 refuse", "192.0.2.7/32 refuse"},  // no /len: a host
      {"  ::1/128\tallow ", "::1/128 allow"},
      {"::1 drop", "::1/128 drop"},
      {"0.0.0.0/0 drop", "0.0.0.0/0 drop"},
      {"::/0 refuse", "::/0 refuse"},
      {"2001:db8:abcd::/48 allow", "2001:db8:abcd::/48 allow"},
      {"fe80::/10 allow", "fe80::/10 allow"},
      {"10.1.2.0/23 allow", "10.1.2.0/23 allow"},
      {"::ffff:10.0.0.0/104 allow", "10.0.0.0/8 allow"},  // a mapped network is an IPv4 one
      {"::ffff:192.0.2.7 refuse", "192.0.2.7/32 refuse"},
  };
  for (const auto& [text, canonical] : cases) {
    auto r = acl_rule_parse(text);
    ASSERT_TRUE(r) << text << ": " << r.error();
    EXPECT_EQ(acl_rule_format(*r), canonical) << text;
  }
  auto v6 = acl_rule_parse("2001:db8::/32 drop");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->family, AF_INET6);
  EXPECT_EQ(v6->prefix_len, 32u);
  EXPECT_EQ(v6->action, AclAction::kDrop);
  EXPECT_EQ(v6->network[0], 0x20);
  EXPECT_EQ(v6->network[1], 0x01);
  EXPECT_EQ(v6->network[2], 0x0d);
  EXPECT_EQ(v6->network[3], 0xb8);
}

TEST(PolicyAclTest, RejectsBadPrefixLengths) {
  for (const char* bad :
       {"10.0.0.0/33 allow", "::/129 allow", "10.0.0.0/ allow", "10.0.0.0/-1 allow",
        "10.0.0.0/8x allow", "10.0.0.0/+8 allow", "10.0.0.0/0008 allow", "10.0.0.0/8/8 allow",
        "::ffff:10.0.0.0/95 allow"}) {
    const std::string error = parse_error(bad);
    EXPECT_TRUE(error.find("prefix length") != std::string::npos ||
                error.find("bad address") != std::string::npos)
        << bad << ": " << error;
  }
  EXPECT_NE(parse_error("10.0.0.0/33 allow").find("expected 0..32"), std::string::npos);
  EXPECT_NE(parse_error("::/129 allow").find("expected 0..128"), std::string::npos);
  EXPECT_NE(parse_error("::ffff:10.0.0.0/95 allow").find("96 or more"), std::string::npos);
}

TEST(PolicyAclTest, RejectsBadActionsAndWordCounts) {
  EXPECT_NE(parse_error("10.0.0.0/8 permit").find("unknown action 'permit'"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/8 ALLOW").find("unknown action"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/8").find("missing action"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("   ").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("10.0.0.0/8 allow now").find("unexpected 'now'"), std::string::npos);
}

TEST(PolicyAclTest, RejectsBadAddresses) {
  for (const char* bad :
       {"10.0.0 allow", "10.0.0.256/32 allow", "localhost allow", "fe80::1%eth0 allow",
        "[::1]/128 allow", "10.0.0.1:53 allow", "/8 allow", "::1::2 allow", "1.2.3.4.5 allow"}) {
    EXPECT_NE(parse_error(bad).find("bad address"), std::string::npos) << bad;
  }
}

// Chosen: a network with host bits set is an error, not silently widened, because
// "10.0.0.1/8 allow" may have been meant as the host. The message offers both readings.
TEST(PolicyAclTest, RejectsHostBitsWithASuggestion) {
  const std::string error = parse_error("10.0.0.1/8 allow");
  EXPECT_NE(error.find("host bits set"), std::string::npos) << error;
  EXPECT_NE(error.find("'10.0.0.0/8 allow'"), std::string::npos) << error;
  EXPECT_NE(error.find("'10.0.0.1 allow'"), std::string::npos) << error;
  EXPECT_NE(parse_error("2001:db8::1/32 drop").find("'2001:db8::/32 drop'"), std::string::npos);
  EXPECT_FALSE(acl_rule_parse("172.16.0.0/11 allow"));  // 172.16 is not on a /11 boundary
  EXPECT_TRUE(acl_rule_parse("172.0.0.0/11 allow"));
}

TEST(PolicyAclTest, HandBuiltRulesWithHostBitsAreNormalised) {
  AclRule rule;
  rule.family = AF_INET;
  rule.network = {10, 9, 9, 9};
  rule.prefix_len = 8;
  rule.action = AclAction::kAllow;
  const Acl acl({rule});
  EXPECT_EQ(acl.check(ip("10.200.0.1")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("11.0.0.1")), AclAction::kRefuse);
  EXPECT_EQ(acl.describe(), "10.0.0.0/8 allow, else refuse");

  rule.network = {10, 9, 9, 9};
  rule.prefix_len = 99;  // too long for IPv4: one host
  EXPECT_EQ(Acl({rule}).describe(), "10.9.9.9/32 allow, else refuse");
  EXPECT_EQ(Acl({rule}).check(ip("10.9.9.9")), AclAction::kAllow);
  EXPECT_EQ(Acl({rule}).check(ip("10.9.9.8")), AclAction::kRefuse);
}

TEST(PolicyAclTest, FirstMatchWins) {
  const Acl acl = acl_of({"10.1.2.3 drop", "10.1.0.0/16 refuse", "10.0.0.0/8 allow",
                          "10.1.2.3 allow", "0.0.0.0/0 drop"});
  EXPECT_EQ(acl.check(ip("10.1.2.3")), AclAction::kDrop);
  EXPECT_EQ(acl.check(ip("10.1.2.4")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("10.2.0.1")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("192.0.2.1")), AclAction::kDrop);
  EXPECT_EQ(acl.check(ip("2001:db8::1")), AclAction::kRefuse);  // v4 /0 is not v6: no match

  const Acl reversed = acl_of({"0.0.0.0/0 allow", "10.1.2.3 drop"});
  EXPECT_EQ(reversed.check(ip("10.1.2.3")), AclAction::kAllow);
}

TEST(PolicyAclTest, NoMatchAndNoRulesRefuse) {
  EXPECT_EQ(Acl({}).check(ip("127.0.0.1")), AclAction::kRefuse);
  EXPECT_EQ(Acl({}).check(ip("::1")), AclAction::kRefuse);
  EXPECT_EQ(acl_of({"10.0.0.0/8 allow"}).check(ip("11.0.0.0")), AclAction::kRefuse);
  EXPECT_EQ(acl_of({"0.0.0.0/0 allow", "::/0 allow"}).check(SocketAddress{}),
            AclAction::kRefuse);  // not an IP client at all
}

TEST(PolicyAclTest, DefaultsAllowLoopbackAndPrivateAndRefuseTheRest) {
  const Acl acl = Acl::defaults();
  for (const char* allowed :
       {"127.0.0.1", "127.255.255.254", "::1", "10.0.0.1", "10.255.255.255", "172.16.0.1",
        "172.31.255.255", "192.168.1.1", "100.64.0.1", "100.127.255.255", "169.254.1.1", "fc00::1",
        "fd12:3456::1", "fe80::1", "febf::1", "::ffff:192.168.1.1", "::ffff:127.0.0.1"}) {
    EXPECT_EQ(acl.check(ip(allowed)), AclAction::kAllow) << allowed;
  }
  for (const char* refused :
       {"8.8.8.8", "2001:db8::1", "1.1.1.1", "172.15.255.255", "172.32.0.0", "100.63.255.255",
        "100.128.0.0", "192.169.0.1", "11.0.0.1", "0.0.0.0", "::", "::2", "fec0::1",
        "2606:4700::1111", "::ffff:8.8.8.8", "::127.0.0.1" /* v4-compatible, not mapped */}) {
    EXPECT_EQ(acl.check(ip(refused)), AclAction::kRefuse) << refused;
  }
}

TEST(PolicyAclTest, MappedIpv4ClientsMatchIpv4RulesOnly) {
  const Acl acl = acl_of({"192.0.2.0/24 drop", "::ffff:0:0/96 allow", "::/0 allow"});
  EXPECT_EQ(acl.check(ip("::ffff:192.0.2.9")), AclAction::kDrop);
  EXPECT_EQ(acl.check(ip("192.0.2.9")), AclAction::kDrop);
  // "::ffff:0:0/96" became 0.0.0.0/0: every IPv4 client, mapped or not.
  EXPECT_EQ(acl.check(ip("::ffff:198.51.100.1")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("198.51.100.1")), AclAction::kAllow);

  // A v6 rule never catches a v4 client, even ::/0.
  const Acl v6_only = acl_of({"::/0 allow"});
  EXPECT_EQ(v6_only.check(ip("::ffff:198.51.100.1")), AclAction::kRefuse);
  EXPECT_EQ(v6_only.check(ip("198.51.100.1")), AclAction::kRefuse);
  EXPECT_EQ(v6_only.check(ip("2001:db8::1")), AclAction::kAllow);
}

TEST(PolicyAclTest, SlashZeroRulesMatchTheirWholeFamily) {
  const Acl acl = acl_of({"0.0.0.0/0 drop", "::/0 allow"});
  for (const char* v4 : {"0.0.0.0", "1.2.3.4", "255.255.255.255", "::ffff:1.2.3.4"})
    EXPECT_EQ(acl.check(ip(v4)), AclAction::kDrop) << v4;
  for (const char* v6 : {"::", "::1", "2001:db8::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"})
    EXPECT_EQ(acl.check(ip(v6)), AclAction::kAllow) << v6;
}

TEST(PolicyAclTest, HostRulesMatchOneAddressOnly) {
  const Acl acl = acl_of({"192.0.2.7 allow", "2001:db8::7 allow"});
  EXPECT_EQ(acl.check(ip("192.0.2.7")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("192.0.2.6")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("192.0.2.8")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("2001:db8::7")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("2001:db8::6")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("2001:db8:0:0:1::7")), AclAction::kRefuse);  // differs in the low half
  EXPECT_EQ(acl.check(ip("2001:db9::7")), AclAction::kRefuse);        // differs in the high half
}

TEST(PolicyAclTest, PrefixesOffByteAndWordBoundaries) {
  const Acl acl =
      acl_of({"10.1.2.0/23 allow", "2001:db8:0:4::/63 allow", "2001:db8::8000:0:0:0/65 drop"});
  EXPECT_EQ(acl.check(ip("10.1.3.255")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("10.1.4.0")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("10.1.1.255")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("2001:db8:0:5:ffff::1")), AclAction::kAllow);
  EXPECT_EQ(acl.check(ip("2001:db8:0:6::1")), AclAction::kRefuse);
  EXPECT_EQ(acl.check(ip("2001:db8::8000:0:0:1")), AclAction::kDrop);
  EXPECT_EQ(acl.check(ip("2001:db8::7fff:0:0:1")), AclAction::kRefuse);
}

TEST(PolicyAclTest, DescribeListsRulesInOrder) {
  EXPECT_EQ(acl_of({"10.0.0.0/8 allow", "::1 allow", "0.0.0.0/0 drop"}).describe(),
            "10.0.0.0/8 allow, ::1/128 allow, 0.0.0.0/0 drop, else refuse");
  EXPECT_EQ(Acl({}).describe(), "else refuse");
  EXPECT_EQ(Acl::defaults().rules().size(), 9u);
}

TEST(PolicyAclTest, ActionNames) {
  EXPECT_EQ(acl_action_name(AclAction::kAllow), "allow");
  EXPECT_EQ(acl_action_name(AclAction::kRefuse), "refuse");
  EXPECT_EQ(acl_action_name(AclAction::kDrop), "drop");
}

}  // namespace
}  // namespace dp::policy
