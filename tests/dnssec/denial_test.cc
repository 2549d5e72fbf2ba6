// denial: NXDOMAIN, NODATA, wildcard and DS-absence proofs from NSEC (RFC 4035 §5.4) and NSEC3
// (RFC 5155 §8) records, built here as text and parsed by ldns.
#include "dnssec/denial.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::name_wire;
using testing::rr_parse;

void expect_secure(const DenialVerdict& v) {
  EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
  EXPECT_FALSE(v.verdict.ede.has_value());
}
void expect_bogus(const DenialVerdict& v, std::optional<Ede> ede = std::nullopt) {
  EXPECT_EQ(v.verdict.status, Status::kBogus);
  ASSERT_TRUE(v.verdict.ede.has_value());
  if (ede) {
    EXPECT_EQ(*v.verdict.ede, *ede) << v.verdict.reason;
  }
  EXPECT_FALSE(v.verdict.reason.empty());
}

// ---- NSEC ----

// example.: a secure delegation a, an insecure one b, data at c, an empty non-terminal y above
// x.y, a wildcard *.w (w an empty non-terminal), a CNAME z. In canonical order (RFC 4034 §6.1);
// the last wraps around to the apex.
class DnssecDenialNsecTest : public ::testing::Test {
 protected:
  const std::string zone = name_wire("example.");
  const Rr apex = rr_parse("example. IN NSEC a.example. NS SOA RRSIG NSEC DNSKEY");
  const Rr a = rr_parse("a.example. IN NSEC b.example. NS DS RRSIG NSEC");
  const Rr b = rr_parse("b.example. IN NSEC c.example. NS");
  const Rr c = rr_parse("c.example. IN NSEC *.w.example. A RRSIG NSEC");
  const Rr star_w = rr_parse("*.w.example. IN NSEC x.y.example. TXT RRSIG NSEC");
  const Rr xy = rr_parse("x.y.example. IN NSEC z.example. A RRSIG NSEC");
  const Rr z = rr_parse("z.example. IN NSEC example. CNAME RRSIG NSEC");

  DenialVerdict nxdomain(std::string_view q, const std::vector<Rr>& rrs) {
    return nxdomain_prove(name_wire(q), zone, rrs, {});
  }
  DenialVerdict nodata(std::string_view q, std::uint16_t type, const std::vector<Rr>& rrs) {
    return nodata_prove(name_wire(q), type, zone, rrs, {});
  }
  DenialVerdict ds(std::string_view q, const std::vector<Rr>& rrs) {
    return ds_absence_prove(name_wire(q), zone, rrs, {});
  }
};

TEST_F(DnssecDenialNsecTest, NxdomainNeedsTheNameAndTheWildcardCovered) {
  expect_secure(nxdomain("d.example.", {c, apex}));
  expect_secure(nxdomain("D.Example.", {c, apex}));  // case does not matter (RFC 4343)
  // *.example sorts right after the apex: without the apex NSEC nothing denies it.
  expect_bogus(nxdomain("d.example.", {c}), Ede::kNsecMissing);
  expect_bogus(nxdomain("d.example.", {apex}), Ede::kNsecMissing);
  expect_bogus(nxdomain("d.example.", {}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, TheLastNsecWrapsAroundToTheApex) {
  expect_secure(nxdomain("zz.example.", {z, apex}));
  expect_secure(nxdomain("a.zz.example.", {z, apex}));
  // Not every NSEC wraps: a's span ends at b.
  expect_bogus(nxdomain("zz.example.", {a, apex}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, NxdomainClosestEncloserComesFromTheCoveringNsec) {
  // foo.c.example: closest encloser c.example, so *.c.example must be denied — c covers it.
  expect_secure(nxdomain("foo.c.example.", {c}));
  // d.example's closest encloser is the apex: c alone does not deny *.example.
  expect_bogus(nxdomain("d.example.", {c}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, NxdomainFailsWhenTheNameOrTheWildcardExists) {
  expect_bogus(nxdomain("c.example.", {c, apex}), Ede::kDnssecBogus);
  // y.example is an empty non-terminal: the NSEC's next name x.y.example is below it.
  expect_bogus(nxdomain("y.example.", {star_w, apex}), Ede::kDnssecBogus);
  // foo.w.example: the wildcard *.w.example exists.
  expect_bogus(nxdomain("foo.w.example.", {star_w, apex}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsecTest, AnNsecAtADelegationDeniesNothingBelowIt) {
  // RFC 6840 §4.1: b's span covers foo.b.example in canonical order, but b is a cut (NS, no
  // SOA): the name belongs to the child zone.
  expect_bogus(nxdomain("foo.b.example.", {b, apex}), Ede::kNsecMissing);
  const Rr dname = rr_parse("c.example. IN NSEC *.w.example. DNAME RRSIG NSEC");
  expect_bogus(nxdomain("foo.c.example.", {dname}), Ede::kNsecMissing);
  // The apex has NS and SOA: it denies names below it.
  expect_secure(nxdomain("0.example.", {apex}));
}

TEST_F(DnssecDenialNsecTest, OnlyTheZonesOwnNsecsCount) {
  const std::string other = name_wire("other.");
  const Rr other_apex = rr_parse("other. IN NSEC zzz.other. NS SOA RRSIG NSEC DNSKEY");
  // An NSEC of another zone is ignored, even one whose span would hold the name.
  const Rr wide = rr_parse("other. IN NSEC zzz.example. NS SOA RRSIG NSEC DNSKEY");
  expect_bogus(nxdomain("d.example.", {wide, other_apex}), Ede::kNsecMissing);
  // A name outside the zone is never proven.
  expect_bogus(nxdomain_prove(name_wire("d.other."), zone, std::vector<Rr>{other_apex}, {}),
               Ede::kDnssecBogus);
  EXPECT_EQ(
      nxdomain_prove(name_wire("d.other."), other, std::vector<Rr>{other_apex}, {}).verdict.status,
      Status::kSecure);
}

TEST_F(DnssecDenialNsecTest, NodataNeedsTheTypeAndCnameBitsClear) {
  expect_secure(nodata("c.example.", 28, {c}));  // AAAA
  expect_bogus(nodata("c.example.", 1, {c}), Ede::kDnssecBogus);
  // RFC 6840 §4.3: a CNAME at the name is no NODATA for any other type.
  expect_bogus(nodata("z.example.", 28, {z}), Ede::kDnssecBogus);
  expect_bogus(nodata("c.example.", 28, {}), Ede::kNsecMissing);
  // A covering NSEC proves the name missing, not NODATA.
  expect_bogus(nodata("d.example.", 28, {c}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, NodataAtAnEmptyNonTerminal) {
  expect_secure(nodata("y.example.", 1, {star_w}));
  // x.y.example's own span (to z) holds no name below y.
  expect_bogus(nodata("y.example.", 1, {c}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, NodataAtACutSpeaksOnlyForDs) {
  // RFC 4035 §3.1.4.1: the parent side of b is authoritative for DS only.
  expect_bogus(nodata("b.example.", 1, {b}), Ede::kDnssecBogus);
  expect_secure(nodata("b.example.", kTypeDs, {b}));
  // The child's apex NSEC cannot deny the DS the parent holds.
  const Rr child_apex = rr_parse("b.example. IN NSEC x.b.example. NS SOA RRSIG NSEC DNSKEY");
  expect_bogus(nodata_prove(name_wire("b.example."), kTypeDs, name_wire("b.example."),
                            std::vector<Rr>{child_apex}, {}),
               Ede::kDnssecBogus);
  expect_secure(nodata_prove(name_wire("b.example."), 1, name_wire("b.example."),
                             std::vector<Rr>{child_apex}, {}));
}

TEST_F(DnssecDenialNsecTest, WildcardNodata) {
  // foo.w.example does not exist; *.w.example matches it and has TXT only.
  expect_secure(nodata("foo.w.example.", 28, {star_w}));
  expect_bogus(nodata("foo.w.example.", 16, {star_w}), Ede::kDnssecBogus);  // TXT
  // d.example: no wildcard *.example matches it.
  expect_bogus(nodata("d.example.", 28, {c, apex}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsecTest, WildcardAnswerNeedsNoCloserName) {
  const std::string q = name_wire("foo.w.example.");
  const std::vector<Rr> rrs{star_w};
  expect_secure(wildcard_answer_prove(q, name_wire("w.example."), zone, rrs, {}));
  // The NSEC shows w.example as the closest encloser, not the apex.
  expect_bogus(wildcard_answer_prove(q, zone, zone, rrs, {}));
  expect_bogus(wildcard_answer_prove(q, name_wire("w.example."), zone, std::vector<Rr>{}, {}),
               Ede::kNsecMissing);
  // A name that exists cannot have been synthesised.
  expect_bogus(wildcard_answer_prove(name_wire("c.example."), zone, zone, std::vector<Rr>{c}, {}),
               Ede::kDnssecBogus);
  // The closest encloser must be above qname.
  expect_bogus(wildcard_answer_prove(q, q, zone, rrs, {}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsecTest, DsAbsence) {
  const auto absence = [&](std::string_view name, const std::vector<Rr>& rrs) {
    const DenialVerdict v = ds(name, rrs);
    EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
    return v.ds_absence;
  };
  EXPECT_EQ(absence("b.example.", {b}), DsAbsence::kInsecureDelegation);
  EXPECT_EQ(absence("c.example.", {c}), DsAbsence::kNotACut);
  EXPECT_EQ(absence("y.example.", {star_w}), DsAbsence::kNotACut);
  EXPECT_EQ(absence("d.example.", {c, apex}), DsAbsence::kNameMissing);
  EXPECT_EQ(absence("foo.w.example.", {star_w}), DsAbsence::kNameMissing);
  expect_bogus(ds("a.example.", {a}), Ede::kDnssecBogus);            // the DS is there
  expect_bogus(ds("d.example.", {c}), Ede::kNsecMissing);            // no wildcard denial
  expect_bogus(ds("foo.b.example.", {b, apex}), Ede::kNsecMissing);  // below a cut
  expect_bogus(ds("example.", {apex}), Ede::kDnssecBogus);
  const Rr child_side = rr_parse("b.example. IN NSEC c.example. NS SOA RRSIG NSEC DNSKEY");
  expect_bogus(ds("b.example.", {child_side}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsecTest, MalformedRecordsAreBogusNotCrashes) {
  Rr broken = c;
  broken.rdata.pop_back();  // the bitmap now says more bytes than it has
  expect_bogus(nxdomain("d.example.", {broken, apex}), Ede::kDnssecBogus);
  broken.rdata.assign({0xc0, 0x0c});  // a compression pointer for the next name
  expect_bogus(nxdomain("d.example.", {broken, apex}), Ede::kDnssecBogus);
  broken.rdata.clear();
  expect_bogus(nodata("c.example.", 28, {broken}), Ede::kDnssecBogus);
  Rr bad_owner = c;
  bad_owner.owner = std::string(
      "\x05"
      "ab",
      3);
  expect_bogus(nxdomain("d.example.", {bad_owner, apex}), Ede::kDnssecBogus);
  expect_bogus(nxdomain_prove(std::string("\x09"
                                          "x",
                                          2),
                              zone, std::vector<Rr>{apex}, {}),
               Ede::kDnssecBogus);
  // Every prefix of every record: a verdict, never a crash.
  for (const Rr& rr : {apex, a, b, c, star_w, xy, z}) {
    for (std::size_t size = 0; size < rr.rdata.size(); ++size) {
      Rr cut = rr;
      cut.rdata.resize(size);
      const auto v = nxdomain("d.example.", {cut, c, apex});
      EXPECT_NE(v.verdict.status, Status::kIndeterminate);
    }
  }
}

// ---- NSEC3 ----

// A zone's NSEC3 chain built from names and their types: hashes from nsec3_hash (checked
// against RFC 5155 Appendix A in records_test), linked in hash order.
struct Nsec3Chain {
  struct Entry {
    Bytes hash;
    std::string name;  // text
    Rr rr;
  };
  std::vector<Entry> entries;  // in hash order

  // The record whose owner hash is H(name).
  Rr match(std::string_view name) const {
    const Bytes h = hash_of(name);
    for (const Entry& e : entries) {
      if (e.hash == h) return e.rr;
    }
    throw std::runtime_error("no NSEC3 matches " + std::string(name));
  }
  // The record with the largest owner hash below H(name), or the last (the wrap-around).
  Rr cover(std::string_view name) const {
    const Bytes h = hash_of(name);
    const Entry* best = &entries.back();
    for (const Entry& e : entries) {
      if (e.hash == h) throw std::runtime_error(std::string(name) + " exists");
      if (e.hash < h) best = &e;
    }
    return best->rr;
  }
  Bytes hash_of(std::string_view name) const {
    return nsec3_hash(name_wire(name), salt, iterations);
  }

  Bytes salt;
  std::uint16_t iterations = 0;
};

std::string hex(const Bytes& data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const auto b : data) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out.empty() ? "-" : out;
}

Nsec3Chain chain_build(std::string_view zone_text,
                       const std::vector<std::pair<std::string, std::string>>& names,
                       const Bytes& salt, std::uint16_t iterations, bool opt_out,
                       std::uint8_t algorithm = 1) {
  Nsec3Chain chain;
  chain.salt = salt;
  chain.iterations = iterations;
  for (const auto& [name, types] : names) {
    chain.entries.push_back({chain.hash_of(name), name, {}});
  }
  std::sort(chain.entries.begin(), chain.entries.end(),
            [](const auto& x, const auto& y) { return x.hash < y.hash; });
  for (std::size_t i = 0; i < chain.entries.size(); ++i) {
    auto& e = chain.entries[i];
    const auto& next = chain.entries[(i + 1) % chain.entries.size()];
    std::string types;
    for (const auto& [name, t] : names) {
      if (name == e.name) types = t;
    }
    e.rr = rr_parse(base32hex_encode(e.hash) + "." + std::string(zone_text) + " IN NSEC3 " +
                    std::to_string(algorithm) + " " + (opt_out ? "1 " : "0 ") +
                    std::to_string(iterations) + " " + hex(salt) + " " +
                    base32hex_encode(next.hash) + " " + types);
  }
  return chain;
}

const std::vector<std::pair<std::string, std::string>> kNames = {
    {"example.", "NS SOA MX RRSIG DNSKEY NSEC3PARAM"},
    {"a.example.", "NS DS RRSIG"},  // a secure delegation
    {"b.example.", "NS"},           // an insecure delegation
    {"ai.example.", "A RRSIG"},
    {"w.example.", ""},  // an empty non-terminal above the wildcard
    {"*.w.example.", "MX RRSIG"},
    {"x.w.example.", "MX RRSIG"},
    {"z.example.", "CNAME RRSIG"},
    {"xx.example.", "A AAAA RRSIG"},
};

class DnssecDenialNsec3Test : public ::testing::Test {
 protected:
  const std::string zone = name_wire("example.");
  const Bytes salt{0xaa, 0xbb, 0xcc, 0xdd};
  const Nsec3Chain chain = chain_build("example.", kNames, salt, 12, false);
  const Nsec3Chain opt_out = chain_build("example.", kNames, salt, 12, true);

  // What RFC 5155 §8.4 needs for `q` with closest encloser `ce`.
  std::vector<Rr> nxdomain_records(const Nsec3Chain& ch, std::string_view ce,
                                   std::string_view next_closer) {
    return {ch.match(ce), ch.cover(next_closer), ch.cover("*." + std::string(ce))};
  }
};

TEST_F(DnssecDenialNsec3Test, Nxdomain) {
  const std::string q = name_wire("d.example.");
  const auto rrs = nxdomain_records(chain, "example.", "d.example.");
  expect_secure(nxdomain_prove(q, zone, rrs, {}));
  // Each of the three is needed: the closest encloser, the next closer, the wildcard.
  for (std::size_t drop = 0; drop < rrs.size(); ++drop) {
    std::vector<Rr> fewer = rrs;
    fewer.erase(fewer.begin() + static_cast<std::ptrdiff_t>(drop));
    if (fewer.size() == 2 &&
        (fewer[0].owner == rrs[drop].owner || fewer[1].owner == rrs[drop].owner)) {
      continue;  // the same record serves twice
    }
    expect_bogus(nxdomain_prove(q, zone, fewer, {}), Ede::kNsecMissing);
  }
  // A deeper name: the next closer is d.example, not the qname.
  expect_secure(nxdomain_prove(name_wire("a.b.c.d.example."), zone, rrs, {}));
}

// The last NSEC3 in hash order covers the hashes above it and those below the first.
TEST_F(DnssecDenialNsec3Test, TheLastNsec3WrapsAround) {
  const Bytes& first = chain.entries.front().hash;
  const Bytes& last = chain.entries.back().hash;
  bool below = false;
  bool above = false;
  for (int i = 0; i < 10000 && !(below && above); ++i) {
    const std::string name = "n" + std::to_string(i) + ".example.";
    const Bytes h = chain.hash_of(name);
    if ((h < first && !below) || (last < h && !above)) {
      (h < first ? below : above) = true;
      const std::vector<Rr> rrs{chain.match("example."), chain.entries.back().rr,
                                chain.cover("*.example.")};
      expect_secure(nxdomain_prove(name_wire(name), zone, rrs, {}));
    }
  }
  EXPECT_TRUE(below && above);
}

TEST_F(DnssecDenialNsec3Test, NxdomainFailsWhenTheNameOrTheWildcardExists) {
  expect_bogus(nxdomain_prove(name_wire("ai.example."), zone,
                              std::vector<Rr>{chain.match("ai.example.")}, {}),
               Ede::kDnssecBogus);
  // foo.w.example: closest encloser w.example, and *.w.example exists.
  const std::vector<Rr> rrs{chain.match("w.example."), chain.cover("foo.w.example."),
                            chain.match("*.w.example.")};
  expect_bogus(nxdomain_prove(name_wire("foo.w.example."), zone, rrs, {}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsec3Test, AClosestEncloserAtADelegationIsRefused) {
  // RFC 6840 §4.1: b.example's NSEC3 (NS, no SOA) cannot be the closest encloser of a name in
  // the child zone.
  const std::vector<Rr> rrs{chain.match("b.example."), chain.cover("foo.b.example."),
                            chain.cover("*.b.example.")};
  expect_bogus(nxdomain_prove(name_wire("foo.b.example."), zone, rrs, {}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsec3Test, OptOutMakesAnAnswerInsecure) {
  const std::string q = name_wire("d.example.");
  const DenialVerdict v =
      nxdomain_prove(q, zone, nxdomain_records(opt_out, "example.", "d.example."), {});
  EXPECT_EQ(v.verdict.status, Status::kInsecure) << v.verdict.reason;
  EXPECT_FALSE(v.verdict.ede.has_value());
  // DS NODATA in an opt-out span (RFC 5155 §8.6): insecure; without opt-out, not proven.
  const std::vector<Rr> ds_rrs{opt_out.match("example."), opt_out.cover("d.example.")};
  EXPECT_EQ(nodata_prove(q, kTypeDs, zone, ds_rrs, {}).verdict.status, Status::kInsecure);
  const std::vector<Rr> plain_rrs{chain.match("example."), chain.cover("d.example.")};
  expect_bogus(nodata_prove(q, kTypeDs, zone, plain_rrs, {}), Ede::kNsecMissing);
  // For the walk, an opt-out span is an insecure delegation, proven.
  const DenialVerdict ds = ds_absence_prove(q, zone, ds_rrs, {});
  EXPECT_EQ(ds.verdict.status, Status::kSecure) << ds.verdict.reason;
  EXPECT_EQ(ds.ds_absence, DsAbsence::kInsecureDelegation);
  // A wildcard answer whose next closer lies in an opt-out span.
  const std::vector<Rr> wc{opt_out.cover("foo.w.example.")};
  EXPECT_EQ(
      wildcard_answer_prove(name_wire("foo.w.example."), name_wire("w.example."), zone, wc, {})
          .verdict.status,
      Status::kInsecure);
}

TEST_F(DnssecDenialNsec3Test, TooManyIterationsMakeTheZoneInsecure) {
  const auto rrs = nxdomain_records(chain, "example.", "d.example.");
  ValidationOptions options;
  options.max_nsec3_iterations = 11;
  const DenialVerdict v = nxdomain_prove(name_wire("d.example."), zone, rrs, options);
  EXPECT_EQ(v.verdict.status, Status::kInsecure);
  EXPECT_EQ(v.verdict.ede, Ede::kUnsupportedNsec3Iterations);
  options.max_nsec3_iterations = 12;
  expect_secure(nxdomain_prove(name_wire("d.example."), zone, rrs, options));
  // The default is RFC 9276's 150.
  const Nsec3Chain heavy = chain_build("example.", kNames, salt, 151, false);
  const DenialVerdict h = nxdomain_prove(name_wire("d.example."), zone,
                                         nxdomain_records(heavy, "example.", "d.example."), {});
  EXPECT_EQ(h.verdict.status, Status::kInsecure);
  EXPECT_EQ(h.verdict.ede, Ede::kUnsupportedNsec3Iterations);
}

TEST_F(DnssecDenialNsec3Test, HashesPerCallAreCapped) {
  // 17 labels under the apex: the closest encloser search hashes 18 names, then the wildcard.
  const std::string deep = "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.example.";
  const auto rrs = nxdomain_records(chain, "example.", "q.example.");
  expect_bogus(nxdomain_prove(name_wire(deep), zone, rrs, {}), Ede::kDnssecBogus);
  ValidationOptions options;
  options.max_nsec3_hashes = 19;
  expect_secure(nxdomain_prove(name_wire(deep), zone, rrs, options));
  options.max_nsec3_hashes = 18;  // one short: the wildcard is not hashed
  expect_bogus(nxdomain_prove(name_wire(deep), zone, rrs, options), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsec3Test, UnknownAlgorithmsAndFlagsAreIgnored) {
  const auto rrs = nxdomain_records(chain, "example.", "d.example.");
  std::vector<Rr> other_algorithm = rrs;
  for (Rr& rr : other_algorithm) rr.rdata[0] = 2;
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, other_algorithm, {}),
               Ede::kNsecMissing);
  std::vector<Rr> other_flags = rrs;
  for (Rr& rr : other_flags) rr.rdata[1] = 0x02;
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, other_flags, {}), Ede::kNsecMissing);
  // An ignored record beside a full proof changes nothing, even with other parameters.
  std::vector<Rr> mixed = rrs;
  Rr extra = chain.match("ai.example.");
  extra.rdata[0] = 2;
  extra.rdata[3] = 99;  // iterations
  mixed.push_back(extra);
  expect_secure(nxdomain_prove(name_wire("d.example."), zone, mixed, {}));
}

TEST_F(DnssecDenialNsec3Test, AllRecordsMustShareParameters) {
  const Nsec3Chain salted = chain_build("example.", kNames, Bytes{0x01}, 12, false);
  const std::vector<Rr> rrs{chain.match("example."), chain.cover("d.example."),
                            salted.cover("*.example.")};
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, rrs, {}), Ede::kDnssecBogus);
  const Nsec3Chain more = chain_build("example.", kNames, salt, 13, false);
  const std::vector<Rr> rrs2{chain.match("example."), chain.cover("d.example."),
                             more.cover("*.example.")};
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, rrs2, {}), Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsec3Test, OnlyRecordsDirectlyUnderTheZoneCount) {
  auto rrs = nxdomain_records(chain, "example.", "d.example.");
  // The same records owned one level deeper, or by another zone, are not this chain.
  std::vector<Rr> deeper = rrs;
  for (Rr& rr : deeper)
    rr.owner.insert(rr.owner.size() - zone.size(), name_wire("sub.").substr(0, 4));
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, deeper, {}), Ede::kNsecMissing);
  std::vector<Rr> other = rrs;
  for (Rr& rr : other)
    rr.owner = rr.owner.substr(0, rr.owner.size() - zone.size()) + name_wire("other.");
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, other, {}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsec3Test, MalformedRecordsAreBogusNotCrashes) {
  const auto rrs = nxdomain_records(chain, "example.", "d.example.");
  std::vector<Rr> bad_label = rrs;
  bad_label[0].owner[1] = 'z';  // outside base32hex
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, bad_label, {}), Ede::kDnssecBogus);
  std::vector<Rr> short_label = rrs;
  short_label[0].owner = name_wire("abcd.example.");
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, short_label, {}), Ede::kDnssecBogus);
  // A cut record beside a full proof still makes the answer bogus: it is not just ignored.
  std::vector<Rr> with_cut = rrs;
  with_cut.push_back(chain.match("ai.example."));
  with_cut.back().rdata.resize(12);
  expect_bogus(nxdomain_prove(name_wire("d.example."), zone, with_cut, {}), Ede::kDnssecBogus);
  for (std::size_t size = 0; size < rrs[1].rdata.size(); ++size) {
    std::vector<Rr> cut = rrs;
    cut[1].rdata.resize(size);
    const auto v = nxdomain_prove(name_wire("d.example."), zone, cut, {});
    // Up to the end of the next hashed owner some field is cut short; after it, an empty or
    // cut bitmap.
    if (size < 5 + salt.size() + 1 + 20) {
      EXPECT_EQ(v.verdict.status, Status::kBogus) << size;
    }
    EXPECT_NE(v.verdict.status, Status::kIndeterminate);
  }
}

TEST_F(DnssecDenialNsec3Test, Nodata) {
  const auto nodata = [&](std::string_view q, std::uint16_t type, const std::vector<Rr>& rrs) {
    return nodata_prove(name_wire(q), type, zone, rrs, {});
  };
  expect_secure(nodata("ai.example.", 28, {chain.match("ai.example.")}));
  expect_bogus(nodata("ai.example.", 1, {chain.match("ai.example.")}), Ede::kDnssecBogus);
  expect_bogus(nodata("z.example.", 1, {chain.match("z.example.")}), Ede::kDnssecBogus);  // CNAME
  expect_secure(nodata("w.example.", 1, {chain.match("w.example.")}));  // empty non-terminal
  expect_bogus(nodata("b.example.", 1, {chain.match("b.example.")}), Ede::kDnssecBogus);
  expect_secure(nodata("b.example.", kTypeDs, {chain.match("b.example.")}));
  expect_bogus(nodata("a.example.", kTypeDs, {chain.match("a.example.")}), Ede::kDnssecBogus);
  // A name that does not exist, with no wildcard to match it.
  expect_bogus(nodata("d.example.", 28, nxdomain_records(chain, "example.", "d.example.")),
               Ede::kNsecMissing);
  // Wildcard NODATA (RFC 5155 §8.7).
  const std::vector<Rr> wc{chain.match("w.example."), chain.cover("foo.w.example."),
                           chain.match("*.w.example.")};
  expect_secure(nodata("foo.w.example.", 28, wc));
  expect_bogus(nodata("foo.w.example.", 15, wc), Ede::kDnssecBogus);  // MX
  expect_bogus(nodata("foo.w.example.", 28, {wc[0], wc[2]}), Ede::kNsecMissing);
}

TEST_F(DnssecDenialNsec3Test, WildcardAnswer) {
  const std::string q = name_wire("foo.w.example.");
  const std::string ce = name_wire("w.example.");
  expect_secure(
      wildcard_answer_prove(q, ce, zone, std::vector<Rr>{chain.cover("foo.w.example.")}, {}));
  // Deeper qname: the next closer is foo.w.example, hashed as such.
  expect_secure(wildcard_answer_prove(name_wire("a.b.foo.w.example."), ce, zone,
                                      std::vector<Rr>{chain.cover("foo.w.example.")}, {}));
  expect_bogus(wildcard_answer_prove(q, ce, zone, std::vector<Rr>{chain.match("w.example.")}, {}),
               Ede::kNsecMissing);
  // x.w.example exists: it was not synthesised.
  expect_bogus(wildcard_answer_prove(name_wire("x.w.example."), ce, zone,
                                     std::vector<Rr>{chain.match("x.w.example.")}, {}),
               Ede::kDnssecBogus);
}

TEST_F(DnssecDenialNsec3Test, DsAbsence) {
  const auto ds = [&](std::string_view name, const std::vector<Rr>& rrs) {
    return ds_absence_prove(name_wire(name), zone, rrs, {});
  };
  const auto absence = [&](std::string_view name, const std::vector<Rr>& rrs) {
    const DenialVerdict v = ds(name, rrs);
    EXPECT_EQ(v.verdict.status, Status::kSecure) << v.verdict.reason;
    return v.ds_absence;
  };
  EXPECT_EQ(absence("b.example.", {chain.match("b.example.")}), DsAbsence::kInsecureDelegation);
  EXPECT_EQ(absence("ai.example.", {chain.match("ai.example.")}), DsAbsence::kNotACut);
  EXPECT_EQ(absence("w.example.", {chain.match("w.example.")}), DsAbsence::kNotACut);
  EXPECT_EQ(absence("d.example.", nxdomain_records(chain, "example.", "d.example.")),
            DsAbsence::kNameMissing);
  expect_bogus(ds("a.example.", {chain.match("a.example.")}), Ede::kDnssecBogus);
  expect_bogus(ds("d.example.", {chain.match("example."), chain.cover("d.example.")}),
               Ede::kNsecMissing);
}

}  // namespace
}  // namespace dp::dnssec
