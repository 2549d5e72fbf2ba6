#include "zones/local_data.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "dns/message.h"
#include "dns/wire.h"
#include "zones/route_table.h"

namespace dp::zones {
namespace {

using ::testing::HasSubstr;
using Bytes = std::vector<std::uint8_t>;

constexpr std::uint16_t kId = 0x4242;
constexpr std::uint16_t kA = 1;
constexpr std::uint16_t kCname = 5;
constexpr std::uint16_t kMx = 15;
constexpr std::uint16_t kTxt = 16;
constexpr std::uint16_t kAaaa = 28;
constexpr std::uint16_t kAny = 255;

struct Ask {
  std::uint16_t qclass = 1;
  bool edns = false;
  bool dnssec_ok = false;
  bool rd = true;
  bool cd = false;
};

// A client query, the name's case kept as written (0x20), without ldns (not allowed here).
dns::Query query_of(const std::string& name, std::uint16_t qtype, Ask ask = {}) {
  Bytes out(dns::kHeaderSize, 0);
  dns::wire::write_u16(out, 0, kId);
  out[dns::wire::kFlags1] = ask.rd ? dns::wire::kRdBit : 0;
  out[dns::wire::kFlags2] = ask.cd ? dns::wire::kCdBit : 0;
  dns::wire::write_u16(out, dns::wire::kQdCount, 1);
  std::string_view rest = name;
  while (!rest.empty()) {
    const std::size_t dot = std::min(rest.find('.'), rest.size());
    out.push_back(static_cast<std::uint8_t>(dot));
    out.insert(out.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(dot));
    rest.remove_prefix(std::min(dot + 1, rest.size()));
  }
  out.push_back(0);
  dns::wire::append_u16(out, qtype);
  dns::wire::append_u16(out, ask.qclass);
  if (ask.edns) {
    dns::wire::append_opt(out, 4096, 0, ask.dnssec_ok);
    dns::wire::write_u16(out, dns::wire::kArCount, 1);
  }
  auto query = dns::query_parse(out);
  EXPECT_TRUE(query.has_value());
  return query.has_value() ? *query : dns::Query{};
}

struct Answer {
  std::uint16_t type;
  std::uint32_t ttl;
  Bytes rdata;
};

// The answer section of `reply`, each owner checked to point at the question's name.
std::vector<Answer> answers_of(const Bytes& reply, const dns::Query& query) {
  std::vector<Answer> out;
  std::size_t pos = dns::kHeaderSize + query.question_wire.size();
  for (std::uint16_t i = 0; i < dns::wire::read_u16(reply, dns::wire::kAnCount); ++i) {
    const auto rr = dns::wire::read_rr(reply, pos);
    if (!rr) {
      ADD_FAILURE() << "unreadable record " << i;
      return out;
    }
    EXPECT_EQ(dns::wire::read_u16(reply, rr->start), 0xc00c);
    EXPECT_EQ(rr->rrclass, 1);
    out.push_back(Answer{rr->type, rr->ttl,
                         Bytes(reply.begin() + static_cast<std::ptrdiff_t>(rr->rdata),
                               reply.begin() + static_cast<std::ptrdiff_t>(rr->end))});
    pos = rr->end;
  }
  return out;
}

LocalData build(const std::vector<std::string>& lines, const std::vector<std::string>& hosts = {}) {
  auto data = local_data_build(lines, hosts);
  EXPECT_TRUE(data.has_value()) << data.error();
  return data.has_value() ? std::move(*data) : LocalData{};
}

TEST(LocalDataTest, AnswersExactNameAndTypeWithAa) {
  const LocalData data = build({"printer.lan A 10.0.0.5", "printer.lan 60 A 10.0.0.6"});
  const dns::Query query = query_of("PrInTeR.lan", kA);
  const auto reply = data.answer(query);
  ASSERT_TRUE(reply.has_value());
  const Bytes& r = *reply;
  EXPECT_EQ(dns::wire::read_u16(r, 0), kId);
  EXPECT_EQ(r[dns::wire::kFlags1], dns::wire::kQrBit | dns::wire::kAaBit | dns::wire::kRdBit);
  EXPECT_EQ(r[dns::wire::kFlags2], dns::wire::kRaBit);  // NOERROR
  EXPECT_EQ(dns::wire::read_u16(r, dns::wire::kQdCount), 1);
  EXPECT_EQ(dns::wire::read_u16(r, dns::wire::kNsCount), 0);
  EXPECT_EQ(dns::wire::read_u16(r, dns::wire::kArCount), 0);
  // The question as the client sent it, case kept.
  EXPECT_EQ(std::string(r.begin() + 12,
                        r.begin() + 12 + static_cast<std::ptrdiff_t>(query.question_wire.size())),
            query.question_wire);
  const auto answers = answers_of(r, query);
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_EQ(answers[0].type, kA);
  EXPECT_EQ(answers[0].ttl, 3600u);
  EXPECT_EQ(answers[0].rdata, (Bytes{10, 0, 0, 5}));
  EXPECT_EQ(answers[1].ttl, 60u);
  EXPECT_EQ(answers[1].rdata, (Bytes{10, 0, 0, 6}));
}

TEST(LocalDataTest, OtherTypesAndNamesGoOnAsUsual) {
  const LocalData data = build({"printer.lan A 10.0.0.5"});
  EXPECT_FALSE(data.answer(query_of("printer.lan", kAaaa)).has_value());
  EXPECT_FALSE(data.answer(query_of("printer.lan", kMx)).has_value());
  EXPECT_FALSE(data.answer(query_of("x.printer.lan", kA)).has_value());
  EXPECT_FALSE(data.answer(query_of("lan", kA)).has_value());
  EXPECT_FALSE(data.answer(query_of("printer.lan", kA, {.qclass = 3})).has_value());  // CH
  EXPECT_TRUE(data.name_has_data(name_text_to_wire("printer.lan")));
  EXPECT_FALSE(data.name_has_data(name_text_to_wire("lan")));
  EXPECT_FALSE(LocalData().answer(query_of("printer.lan", kA)).has_value());
}

// Inside a zone answered here (home.arpa), another type must not fall through to the zone's
// NXDOMAIN, which would deny the name the A record is for.
TEST(LocalDataTest, OtherTypesGetNodataInsideALocalZone) {
  const LocalData data = build({"printer.home.arpa A 192.168.1.5"});
  const dns::Query q = query_of("printer.home.arpa", kAaaa);
  EXPECT_FALSE(data.answer(q).has_value());
  const auto reply = data.answer(q, dns::kMaxMessageSize, /*in_local_zone=*/true);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ((*reply)[dns::wire::kFlags1] & dns::wire::kAaBit, dns::wire::kAaBit);
  EXPECT_EQ((*reply)[dns::wire::kFlags2] & 0x0f, 0);  // NOERROR
  EXPECT_EQ(dns::wire::read_u16(*reply, dns::wire::kAnCount), 0);
  EXPECT_EQ(reply->size(), dns::kHeaderSize + q.question_wire.size());
  EXPECT_FALSE(data.answer(query_of("other.home.arpa", kA), dns::kMaxMessageSize, true));
  const dns::Query a = query_of("printer.home.arpa", kA);
  EXPECT_EQ(answers_of(*data.answer(a, dns::kMaxMessageSize, true), a).size(), 1u);
}

TEST(LocalDataTest, AnyGetsEverythingAndCnameAnswersOtherTypes) {
  const LocalData data = build({"host.lan A 10.0.0.5", "host.lan AAAA fd00::5",
                                "host.lan TXT \"a, b\"", "alias.lan CNAME host.lan."});
  EXPECT_EQ(answers_of(*data.answer(query_of("host.lan", kAny)), query_of("host.lan", kAny)).size(),
            3u);
  const dns::Query q = query_of("alias.lan", kA);
  const auto answers = answers_of(*data.answer(q), q);
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].type, kCname);
  const std::string target = name_text_to_wire("host.lan");
  EXPECT_EQ(answers[0].rdata, Bytes(target.begin(), target.end()));
  const dns::Query txt = query_of("host.lan", kTxt);
  EXPECT_EQ(answers_of(*data.answer(txt), txt)[0].rdata, (Bytes{4, 'a', ',', ' ', 'b'}));
}

TEST(LocalDataTest, EdnsClientGetsOurOptAndFlagsAreCopied) {
  const LocalData data = build({"printer.lan A 10.0.0.5"});
  const auto reply = data.answer(
      query_of("printer.lan", kA, {.edns = true, .dnssec_ok = true, .rd = false, .cd = true}));
  ASSERT_TRUE(reply.has_value());
  const Bytes& r = *reply;
  EXPECT_EQ(r[dns::wire::kFlags1], dns::wire::kQrBit | dns::wire::kAaBit);
  EXPECT_EQ(r[dns::wire::kFlags2], dns::wire::kRaBit | dns::wire::kCdBit);
  EXPECT_EQ(dns::wire::read_u16(r, dns::wire::kArCount), 1);
  // The OPT is last: root name, type 41, our size, DO set.
  const std::size_t opt = r.size() - dns::wire::kOptFixedSize;
  EXPECT_EQ(r[opt], 0);
  EXPECT_EQ(dns::wire::read_u16(r, opt + 1), dns::wire::kTypeOpt);
  EXPECT_EQ(dns::wire::read_u16(r, opt + 3), dns::kMaxUdpReplyEdns);
  EXPECT_EQ(dns::wire::read_u16(r, opt + 7), dns::wire::kDoBit);
}

TEST(LocalDataTest, TooLargeForTheClientIsTruncated) {
  std::vector<std::string> lines;
  for (int i = 0; i < 40; ++i) lines.push_back("many.lan A 10.0.1." + std::to_string(i));
  const LocalData data = build(lines);
  const dns::Query q = query_of("many.lan", kA);
  const auto full = data.answer(q);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(dns::wire::read_u16(*full, dns::wire::kAnCount), 40);
  const auto cut = data.answer(q, q.udp_reply_limit());
  ASSERT_TRUE(cut.has_value());
  EXPECT_LE(cut->size(), 512u);
  EXPECT_NE((*cut)[dns::wire::kFlags1] & dns::wire::kTcBit, 0);
  EXPECT_EQ(dns::wire::read_u16(*cut, dns::wire::kAnCount), 0);
}

TEST(LocalDataTest, RepeatsAreDroppedAndCnameConflictsRefused) {
  const LocalData data = build({"a.lan A 10.0.0.1", "A.LAN. A 10.0.0.1"});
  EXPECT_EQ(data.record_count(), 1u);
  EXPECT_EQ(local_data_build({"a.lan A 10.0.0.1", "a.lan CNAME b.lan."}, {}).error(),
            "--local-data 'a.lan CNAME b.lan.': a.lan would have a CNAME and other data "
            "(RFC 1034 §3.6.2)");
  EXPECT_THAT(local_data_build({"a.lan CNAME b.lan.", "a.lan CNAME c.lan."}, {}).error(),
              HasSubstr("CNAME and other data"));
}

TEST(LocalDataTest, BadLineGivesLdnsReason) {
  EXPECT_EQ(local_data_build({"printer.lan A 10.0.0.300"}, {}).error(),
            "--local-data 'printer.lan A 10.0.0.300': Syntax error, could not parse the RR's "
            "rdata");
  EXPECT_THAT(local_data_build({"printer.lan A"}, {}).error(),
              HasSubstr("--local-data 'printer.lan A': "));
}

TEST(LocalDataTest, HostsFilesAnswerNamesAndAddresses) {
  const auto path = std::filesystem::temp_directory_path() / "dotproxy-local-data-hosts";
  std::ofstream(path) << "# lab\n10.0.0.5 printer.lan printer\nfd00::7 nas.lan\n";
  const auto data = local_data_build({"printer.lan TXT \"hp\""}, {path.string()});
  std::filesystem::remove(path);
  ASSERT_TRUE(data.has_value()) << data.error();
  EXPECT_TRUE(data->answer(query_of("printer", kA)).has_value());
  EXPECT_TRUE(data->answer(query_of("printer.lan", kTxt)).has_value());
  EXPECT_FALSE(data->answer(query_of("nas.lan", kA)).has_value());  // AAAA only
  const dns::Query ptr = query_of("5.0.0.10.in-addr.arpa", 12);
  const auto answers = answers_of(*data->answer(ptr), ptr);
  ASSERT_EQ(answers.size(), 1u);
  const std::string target = name_text_to_wire("printer.lan");
  EXPECT_EQ(answers[0].rdata, Bytes(target.begin(), target.end()));
  const dns::Query ptr6 =
      query_of("7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa", 12);
  EXPECT_TRUE(data->answer(ptr6).has_value());
}

TEST(LocalDataTest, HostsErrorsNameFileAndLine) {
  const auto path = std::filesystem::temp_directory_path() / "dotproxy-local-data-bad-hosts";
  std::ofstream(path) << "10.0.0.5 ok\nnot-an-address name\n";
  const auto data = local_data_build({}, {path.string()});
  std::filesystem::remove(path);
  EXPECT_EQ(data.error(), path.string() + ":2: 'not-an-address' is not an IP address");
  EXPECT_THAT(local_data_build({}, {"/nonexistent-dotproxy/hosts"}).error(),
              HasSubstr("hosts: cannot read '/nonexistent-dotproxy/hosts': "));
}

}  // namespace
}  // namespace dp::zones
