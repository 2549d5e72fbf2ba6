// A small signed hierarchy made at test time, for the chain planner's, the answer judge's and
// the fetch driver's tests: a root with its trust anchor, example. (secure, ECDSA P-256),
// insecure. (a delegation without DS, proven by the root's NSEC), and what an upstream would
// answer for their DNSKEY and DS sets. Signatures valid around testing::kNow.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dnssec/answer_records.h"
#include "dnssec/answer_validate.h"
#include "dnssec/chain.h"
#include "dnssec/key_cache.h"
#include "tests/dnssec/test_signer.h"

namespace dp::dnssec::testing {

// A message's records in the form the validator reads (no wire round trip).
inline AnswerRecords answer_make(const std::string& qname, std::uint16_t qtype, std::uint8_t rcode,
                                 std::vector<Rr> answer, std::vector<Rr> authority = {}) {
  AnswerRecords out;
  out.header = {0, 0, 0x81, static_cast<std::uint8_t>(0x80 | rcode), 0, 1, 0, 0, 0, 0, 0, 0};
  out.qname = name_lower(name_wire(qname));
  out.qtype = qtype;
  out.rcode = rcode;
  out.question.assign(out.qname.begin(), out.qname.end());
  out.question.push_back(static_cast<std::uint8_t>(qtype >> 8));
  out.question.push_back(static_cast<std::uint8_t>(qtype));
  out.question.push_back(0);
  out.question.push_back(1);
  out.answer = std::move(answer);
  out.authority = std::move(authority);
  return out;
}

// `rrset` followed by `key`'s RRSIG over it.
inline std::vector<Rr> signed_by(const TestKey& key, std::vector<Rr> rrset) {
  Rr sig = key.sign(rrset);
  rrset.push_back(std::move(sig));
  return rrset;
}

inline std::vector<Rr> joined(std::vector<Rr> a, const std::vector<Rr>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class SignedTree {
 public:
  SignedTree()
      : root_(".", LDNS_SIGN_ECDSAP256SHA256), example_("example.", LDNS_SIGN_ECDSAP256SHA256) {
    const auto ds_rr = [](const TestKey& key, const std::string& owner) {
      Ds ds = key.ds(LDNS_SHA256);
      Rr rr;
      rr.owner = name_wire(owner);
      rr.type = kTypeDs;
      rr.ttl = 3600;
      rr.rdata = {static_cast<std::uint8_t>(ds.key_tag >> 8), static_cast<std::uint8_t>(ds.key_tag),
                  ds.algorithm, ds.digest_type};
      rr.rdata.insert(rr.rdata.end(), ds.digest.begin(), ds.digest.end());
      return rr;
    };
    fetches_[{".", kTypeDnskey}] =
        answer_make(".", kTypeDnskey, 0, signed_by(root_, {root_.dnskey()}));
    fetches_[{"example.", kTypeDnskey}] =
        answer_make("example.", kTypeDnskey, 0, signed_by(example_, {example_.dnskey()}));
    fetches_[{"example.", kTypeDs}] =
        answer_make("example.", kTypeDs, 0, signed_by(root_, {ds_rr(example_, "example.")}));
    // www.example. is a name in example., no delegation: its DS denied by example.'s NSEC.
    fetches_[{"www.example.", kTypeDs}] = answer_make(
        "www.example.", kTypeDs, 0, {},
        joined(signed_by(example_,
                         {rr_parse("example. 300 IN SOA ns.example. h.example. 1 2 3 4 300")}),
               signed_by(example_, {rr_parse("www.example. 300 IN NSEC example. A RRSIG NSEC")})));
    // insecure. is delegated without a DS: the root's NSEC at it has NS, not DS.
    fetches_[{"insecure.", kTypeDs}] = answer_make(
        "insecure.", kTypeDs, 0, {},
        joined(
            signed_by(root_, {rr_parse(". 86400 IN SOA a.root. h.root. 1 1800 900 604800 86400")}),
            signed_by(root_, {rr_parse("insecure. 86400 IN NSEC zzz. NS RRSIG NSEC")})));
  }

  const TestKey& root() const { return root_; }
  const TestKey& example() const { return example_; }

  ChainConfig config() const {
    ChainConfig config;
    config.anchors.push_back(TrustAnchor{std::string(1, '\0'), {root_.ds(LDNS_SHA256)}, {}});
    return config;
  }

  // What the upstream answers a DS or DNSKEY query with; nullopt: it fails (a timeout).
  std::optional<AnswerRecords> fetch_answer(const ChainFetch& fetch) const {
    const auto found = fetches_.find({name_to_text(fetch.name), fetch.type});
    if (found == fetches_.end()) return std::nullopt;
    return found->second;
  }
  void fetch_set(const std::string& name, std::uint16_t type, AnswerRecords answer) {
    fetches_[{name, type}] = std::move(answer);
  }
  void fetch_remove(const std::string& name, std::uint16_t type) { fetches_.erase({name, type}); }

  // The whole of a validation, synchronously: walks every name the answer needs, answering
  // each fetch from fetch_answer, then judges `answer` (which it may trim). `fetches` counts
  // the fetches.
  AnswerVerdict validate(AnswerRecords& answer, KeyCache& cache, const ChainConfig& config,
                         std::size_t* fetches = nullptr) const {
    std::map<std::string, ZoneTrust> trusts;
    std::size_t sent = 0;
    for (const std::string& target : answer_trust_targets(answer)) {
      for (;;) {
        ChainStep step = chain_walk(cache, config, target, kNow);
        if (!step.fetch) {
          trusts[target] = step.trust;
          break;
        }
        if (++sent > 64) throw std::runtime_error("the walk does not end");
        const auto reply = fetch_answer(*step.fetch);
        (void)chain_absorb(cache, config, *step.fetch, reply ? &*reply : nullptr, "timeout", kNow);
      }
    }
    if (fetches != nullptr) *fetches = sent;
    const TrustLookup lookup = [&](std::string_view name) -> const ZoneTrust* {
      const auto it = trusts.find(std::string(name));
      return it == trusts.end() ? nullptr : &it->second;
    };
    return answer_validate(answer, lookup, kNow, config.options);
  }

 private:
  TestKey root_;
  TestKey example_;
  std::map<std::pair<std::string, std::uint16_t>, AnswerRecords> fetches_;
};

}  // namespace dp::dnssec::testing
