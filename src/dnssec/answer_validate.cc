#include "dnssec/answer_validate.h"

#include <algorithm>
#include <optional>

#include "dnssec/denial.h"

namespace dp::dnssec {
namespace {

constexpr std::uint8_t kRcodeNxDomain = 3;

// One RRset of a section and what became of it.
struct Rrset {
  std::string owner;  // lowercased
  std::uint16_t type = 0;
  std::vector<Rr> rrs;
  Verdict verdict;
  RrsetVerdict checked;  // kSecure ones: ttl, wildcard
  std::string zone;      // the signer's zone it validated with (kSecure)
};

std::vector<Rrset> rrsets_group(const std::vector<Rr>& section) {
  std::vector<Rrset> out;
  for (const Rr& rr : section) {
    if (rr.type == kTypeRrsig) continue;
    const auto same = [&](const Rrset& set) {
      return set.type == rr.type && set.rrs.front().rclass == rr.rclass &&
             name_equal(set.owner, rr.owner);
    };
    const auto found = std::find_if(out.begin(), out.end(), same);
    if (found != out.end()) {
      found->rrs.push_back(rr);
      continue;
    }
    Rrset set;
    set.owner = name_lower(rr.owner);
    set.type = rr.type;
    set.rrs.push_back(rr);
    out.push_back(std::move(set));
  }
  return out;
}

// The signers of the RRSIGs in `section` that cover `set`, lowercased, each once.
std::vector<std::string> signers_of(const Rrset& set, const std::vector<Rr>& section) {
  std::vector<std::string> out;
  for (const Rr& rr : section) {
    if (rr.type != kTypeRrsig || !name_equal(rr.owner, set.owner)) continue;
    const auto sig = rrsig_parse(rr.rdata);
    if (!sig || sig->type_covered != set.type || !name_valid(sig->signer)) continue;
    std::string signer = name_lower(sig->signer);
    if (std::find(out.begin(), out.end(), signer) == out.end()) out.push_back(std::move(signer));
  }
  return out;
}

// The name in a CNAME or DNAME RDATA; nullopt when it is not one valid name.
std::optional<std::string> target_of(const Rr& rr) {
  const std::string_view rdata(reinterpret_cast<const char*>(rr.rdata.data()), rr.rdata.size());
  if (!name_valid(rdata)) return std::nullopt;
  return name_lower(rdata);
}

// Ranks verdicts: the answer takes the worst of its parts.
int severity(const Verdict& verdict) {
  switch (verdict.status) {
    case Status::kSecure:
      return 0;
    case Status::kInsecure:
      return 1;
    case Status::kIndeterminate:
      return verdict.ede ? 2 : 1;  // no anchor: as insecure; a failed fetch: not known
    case Status::kBogus:
      return 3;
  }
  return 3;
}

class Judge {
 public:
  Judge(AnswerRecords& answer, const TrustLookup& trust, std::uint32_t now,
        const ValidationOptions& options, const AnswerLimits& limits)
      : answer_(answer), trust_(trust), now_(now), options_(options), limits_(limits) {}

  AnswerVerdict run() {
    std::vector<Rrset> answers = rrsets_group(answer_.answer);
    std::vector<Rrset> authority = rrsets_group(answer_.authority);
    for (Rrset& set : answers) judge(set, answer_.answer);
    for (Rrset& set : authority) judge(set, answer_.authority);
    dname_synthesis_accept(answers);
    for (const Rrset& set : answers) worst(set.verdict);

    const auto final_name = chain_follow(answers);
    if (!final_name) return out_;
    const bool positive =
        answer_.rcode == 0 && std::any_of(answers.begin(), answers.end(), [&](const Rrset& set) {
          return set.owner == *final_name &&
                 (set.type == answer_.qtype || answer_.qtype == kTypeCname);
        });
    if (answer_.rcode != 0 && answer_.rcode != kRcodeNxDomain) {
      worst({Status::kInsecure, std::nullopt, "rcode " + std::to_string(answer_.rcode)});
      return out_;  // SERVFAIL, REFUSED, ...: nothing to prove, nothing secure
    }
    if (positive) {
      for (const Rrset& set : answers) {
        if (set.verdict.status == Status::kSecure && set.checked.wildcard) {
          const DenialVerdict proof =
              wildcard_answer_prove(set.owner, set.checked.closest_encloser, set.zone,
                                    denials_of(authority, set.zone), options_);
          worst(proof.verdict);
        }
      }
    } else {
      negative_judge(*final_name, authority);
    }
    if (out_.verdict.status == Status::kSecure) {
      for (const Rrset& set : answers) out_.ttl = std::min(out_.ttl, set.checked.ttl);
      authority_clean(authority);
    }
    return out_;
  }

 private:
  void judge(Rrset& set, const std::vector<Rr>& section) {
    const std::vector<std::string> signers = signers_of(set, section);
    if (signers.empty()) {
      const ZoneTrust* trust = trust_(set.owner);
      if (trust == nullptr) {
        set.verdict = {Status::kIndeterminate, Ede::kNoReachableAuthority,
                       "no chain of trust for " + name_to_text(set.owner)};
      } else if (trust->verdict.status == Status::kSecure) {
        set.verdict = {Status::kBogus, Ede::kRrsigsMissing,
                       "no RRSIG covers " + name_to_text(set.owner) + " type " +
                           std::to_string(set.type) + " in the signed zone " +
                           name_to_text(trust->zone)};
      } else {
        set.verdict = trust->verdict;
      }
      return;
    }
    Verdict best{Status::kBogus, Ede::kDnssecBogus, "no signer"};
    for (const std::string& signer : signers) {
      if (!name_is_under(set.owner, signer)) {  // CVE-2022-3346
        best = {
            Status::kBogus, Ede::kDnssecBogus,
            "signer " + name_to_text(signer) + " is not an ancestor of " + name_to_text(set.owner)};
        continue;
      }
      const ZoneTrust* trust = trust_(signer);
      if (trust == nullptr) continue;
      if (trust->verdict.status != Status::kSecure) {
        set.verdict = trust->verdict;  // the signer's zone is insecure, or its keys failed
        return;
      }
      if (!name_equal(trust->zone, signer)) {
        best = {Status::kBogus, Ede::kDnskeyMissing,
                "signer " + name_to_text(signer) + " is no zone apex (it lies in " +
                    name_to_text(trust->zone) + ")"};
        continue;
      }
      if (out_.verifications.total >= limits_.max_verifications) {
        out_.limit_tripped = true;
        set.verdict = {Status::kBogus, Ede::kDnssecBogus,
                       "KeyTrap limit: " + std::to_string(out_.verifications.total) +
                           " signature checks for one answer"};
        return;
      }
      ValidationOptions options = options_;
      options.max_verifications_per_rrset =
          std::min(options.max_verifications_per_rrset,
                   limits_.max_verifications - out_.verifications.total);
      set.checked = rrset_verify(set.rrs, section, signer, *trust->keys, now_, options);
      out_.verifications += set.checked.verifications;
      out_.limit_tripped = out_.limit_tripped || set.checked.limit_tripped;
      if (set.checked.verdict.status == Status::kSecure) {
        set.verdict = set.checked.verdict;
        set.zone = signer;
        return;
      }
      best = set.checked.verdict;
    }
    set.verdict = best;
  }

  // RFC 6672 §5.3.1: a CNAME synthesised from a DNAME comes unsigned; it is as good as the
  // DNAME when it is exactly the substitution the DNAME makes.
  void dname_synthesis_accept(std::vector<Rrset>& answers) {
    for (Rrset& cname : answers) {
      if (cname.type != kTypeCname || cname.verdict.status != Status::kBogus ||
          cname.verdict.ede != Ede::kRrsigsMissing || cname.rrs.size() != 1) {
        continue;
      }
      const auto target = target_of(cname.rrs.front());
      for (const Rrset& dname : answers) {
        if (dname.type != kTypeDname || dname.rrs.size() != 1 || dname.owner == cname.owner ||
            !name_is_under(cname.owner, dname.owner)) {
          continue;
        }
        const auto dname_target = target_of(dname.rrs.front());
        if (!target || !dname_target) continue;
        const std::string expected =
            cname.owner.substr(0, cname.owner.size() - dname.owner.size()) + *dname_target;
        if (expected == *target) {
          cname.verdict = dname.verdict;
          cname.checked.ttl = dname.checked.ttl;
        }
      }
    }
  }

  // From the question's name along the CNAMEs of the answer section: the name whose data or
  // denial the answer ends with. Nullopt (the verdict set) when the chain is too long.
  std::optional<std::string> chain_follow(const std::vector<Rrset>& answers) {
    std::string name = answer_.qname;
    for (std::size_t steps = 0;; ++steps) {
      if (answer_.qtype == kTypeCname) return name;
      const auto has = [&](std::uint16_t type) {
        return std::find_if(answers.begin(), answers.end(), [&](const Rrset& set) {
          return set.owner == name && set.type == type;
        });
      };
      if (has(answer_.qtype) != answers.end()) return name;
      const auto cname = has(kTypeCname);
      if (cname == answers.end()) return name;
      if (steps == limits_.max_cname_steps) {
        out_.limit_tripped = true;
        worst({Status::kBogus, Ede::kDnssecBogus,
               "more than " + std::to_string(steps) + " CNAMEs in one answer"});
        return std::nullopt;
      }
      const auto target = target_of(cname->rrs.front());
      if (!target) return name;
      name = *target;
    }
  }

  // The secure NSEC and NSEC3 records of `zone` in the authority section, none expanded from
  // a wildcard (CVE-2017-15107).
  static std::vector<Rr> denials_of(const std::vector<Rrset>& authority, std::string_view zone) {
    std::vector<Rr> out;
    for (const Rrset& set : authority) {
      if ((set.type == kTypeNsec || set.type == kTypeNsec3) &&
          set.verdict.status == Status::kSecure && !set.checked.wildcard &&
          name_equal(set.zone, zone)) {
        out.insert(out.end(), set.rrs.begin(), set.rrs.end());
      }
    }
    return out;
  }

  void negative_judge(const std::string& name, const std::vector<Rrset>& authority) {
    const auto soa = std::find_if(authority.begin(), authority.end(),
                                  [](const Rrset& set) { return set.type == kTypeSoa; });
    if (soa == authority.end()) {
      const ZoneTrust* trust = trust_(name);
      if (trust == nullptr || trust->verdict.status == Status::kSecure) {
        worst(
            {Status::kBogus, Ede::kNsecMissing, "no SOA and no proof deny " + name_to_text(name)});
      } else {
        worst(trust->verdict);
      }
      return;
    }
    worst(soa->verdict);
    if (soa->verdict.status != Status::kSecure) return;
    if (!name_is_under(name, soa->owner)) {
      worst({Status::kBogus, Ede::kDnssecBogus,
             "the SOA of " + name_to_text(soa->owner) + " cannot deny " + name_to_text(name)});
      return;
    }
    const std::vector<Rr> denials = denials_of(authority, soa->zone);
    const DenialVerdict proof =
        answer_.rcode == kRcodeNxDomain
            ? nxdomain_prove(name, soa->zone, denials, options_)
            : nodata_prove(name, answer_.qtype, soa->zone, denials, options_);
    worst(proof.verdict);
    if (proof.verdict.status == Status::kSecure) out_.ttl = std::min(out_.ttl, soa->checked.ttl);
    for (const Rrset& set : authority) {
      if (proof.verdict.status == Status::kSecure && set.verdict.status == Status::kSecure &&
          (set.type == kTypeNsec || set.type == kTypeNsec3)) {
        out_.ttl = std::min(out_.ttl, set.checked.ttl);
      }
    }
  }

  // Keeps of the authority section only its secure RRsets and their RRSIGs; drops the
  // additional section.
  void authority_clean(const std::vector<Rrset>& authority) {
    std::vector<Rr> kept;
    for (const Rr& rr : answer_.authority) {
      const std::uint16_t type =
          rr.type == kTypeRrsig ? rrsig_parse(rr.rdata).value_or(Rrsig{}).type_covered : rr.type;
      const bool secure = std::any_of(authority.begin(), authority.end(), [&](const Rrset& set) {
        return set.type == type && name_equal(set.owner, rr.owner) &&
               set.verdict.status == Status::kSecure;
      });
      if (secure) kept.push_back(rr);
    }
    answer_.authority = std::move(kept);
    answer_.additional.clear();
  }

  void worst(const Verdict& verdict) {
    if (severity(verdict) > severity(out_.verdict)) out_.verdict = verdict;
  }

  AnswerRecords& answer_;
  const TrustLookup& trust_;
  std::uint32_t now_;
  const ValidationOptions& options_;
  const AnswerLimits& limits_;
  AnswerVerdict out_{{Status::kSecure, std::nullopt, {}}};
};

}  // namespace

std::vector<std::string> answer_trust_targets(const AnswerRecords& answer,
                                              const AnswerLimits& limits) {
  std::vector<std::string> out;
  const auto add = [&](std::string name) {
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  };
  for (const std::vector<Rr>* section : {&answer.answer, &answer.authority}) {
    for (const Rrset& set : rrsets_group(*section)) {
      std::vector<std::string> signers = signers_of(set, *section);
      if (signers.empty()) add(set.owner);
      for (std::string& signer : signers) {
        if (name_is_under(set.owner, signer)) add(std::move(signer));
      }
    }
  }
  // The denied name of a negative answer without an SOA: where its zone is, is to be known.
  std::string name = answer.qname;
  for (std::size_t steps = 0; steps <= limits.max_cname_steps; ++steps) {
    const auto cname = std::find_if(answer.answer.begin(), answer.answer.end(), [&](const Rr& rr) {
      return rr.type == kTypeCname && name_equal(rr.owner, name);
    });
    if (cname == answer.answer.end() || answer.qtype == kTypeCname) break;
    const auto target = target_of(*cname);
    if (!target) break;
    name = *target;
  }
  const bool has_data = std::any_of(answer.answer.begin(), answer.answer.end(), [&](const Rr& rr) {
    return rr.type == answer.qtype && name_equal(rr.owner, name);
  });
  const bool has_soa = std::any_of(answer.authority.begin(), answer.authority.end(),
                                   [](const Rr& rr) { return rr.type == kTypeSoa; });
  if ((answer.rcode == kRcodeNxDomain || !has_data) && !has_soa) add(name);
  return out;
}

AnswerVerdict answer_validate(AnswerRecords& answer, const TrustLookup& trust, std::uint32_t now,
                              const ValidationOptions& options, const AnswerLimits& limits) {
  return Judge(answer, trust, now, options, limits).run();
}

}  // namespace dp::dnssec
