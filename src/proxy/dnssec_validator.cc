#include "proxy/dnssec_validator.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "dns/message.h"
#include "dns/upstream_query.h"
#include "proxy/worker_snapshot.h"

namespace dp::proxy {
namespace {

std::string fetch_key(const dnssec::ChainFetch& request) {
  std::string key(2, '\0');
  key[0] = static_cast<char>(request.type >> 8);
  key[1] = static_cast<char>(request.type & 0xff);
  return key + request.name;
}

// Where a DS lives: the parent side of the cut (RFC 4035 §3.1.4.1), so it is routed by the
// parent's name; a DNSKEY by its own.
std::string_view route_name(const dnssec::ChainFetch& request) {
  const std::string_view name = request.name;
  if (request.type != dnssec::kTypeDs || name.empty() || name[0] == 0) return name;
  return name.substr(1 + static_cast<std::uint8_t>(name[0]));
}

// This release's date (2026-12-06 UTC): a clock before it is wrong, whatever RRSIGs say.
constexpr std::uint32_t kReleaseEpoch = 1'796'515'200;

constexpr std::uint16_t kFlagSep = 0x0001;  // RFC 4034 §2.1.1: a key-signing key

}  // namespace

bool DnssecValidator::clock_untrusted() const { return wall_clock_() < kReleaseEpoch; }

void DnssecValidator::snapshot_fill(WorkerSnapshot& out, DnssecMode mode) const {
  out.key_cache_entries = keys_.entries();
  out.key_cache_bytes = keys_.bytes();
  out.key_cache_hits = keys_.hits();
  out.key_cache_misses = keys_.misses();
  out.validations_waiting = pending();
  out.anchor_warnings = anchor_warnings_;
  // The answers' own checks are in the worker's counters; the key fetches' join them here.
  for (std::size_t i = 0; i < chain_checks_.by_algorithm.size(); ++i) {
    out.queries.dnssec_verifications[i] += chain_checks_.by_algorithm[i];
  }
  if (mode == DnssecMode::kOff) return;
  out.dnssec_clock_untrusted = clock_untrusted() ? 1 : 0;
  out.dnssec_upstream_unusable = upstream_problem_.empty() ? 0 : 1;
  if (mode == DnssecMode::kValidate) out.dnssec_problem = upstream_problem_;
}

void DnssecValidator::prime() {
  const std::uint32_t now = wall_clock_();
  for (const dnssec::TrustAnchor& anchor : config_->anchors) {
    const dnssec::ChainStep step = dnssec::chain_walk(keys_, *config_, anchor.owner, now);
    if (!step.fetch) continue;
    const std::string key = fetch_key(*step.fetch);
    if (fetches_.contains(key)) continue;
    fetches_.emplace(key, Fetch{*step.fetch, {}});
    const bool outer = !draining_;
    draining_ = true;
    fetch_send(key, *step.fetch);
    if (outer) drain();
  }
}

void DnssecValidator::anchor_answer_check(const dnssec::ChainFetch& request,
                                          const dnssec::AnswerRecords* answer) {
  if (request.type != dnssec::kTypeDnskey || answer == nullptr) return;
  const auto anchor = std::find_if(
      config_->anchors.begin(), config_->anchors.end(),
      [&](const dnssec::TrustAnchor& a) { return dnssec::name_equal(a.owner, request.name); });
  if (anchor == config_->anchors.end()) return;
  std::vector<dnssec::Dnskey> keys;
  bool signed_set = false;
  for (const dnssec::Rr& rr : answer->answer) {
    if (!dnssec::name_equal(rr.owner, request.name)) continue;
    if (rr.type == dnssec::kTypeDnskey) {
      if (auto key = dnssec::dnskey_parse(rr.rdata)) keys.push_back(std::move(*key));
    } else if (rr.type == dnssec::kTypeRrsig) {
      const auto sig = dnssec::rrsig_parse(rr.rdata);
      signed_set = signed_set || (sig && sig->type_covered == dnssec::kTypeDnskey);
    }
  }
  std::string problem;
  if (keys.empty()) {
    problem = "its answer to " + dnssec::name_to_text(request.name) +
              " DNSKEY has no keys (rcode " + std::to_string(answer->rcode) + ")";
  } else if (!signed_set) {
    problem = "its answer to " + dnssec::name_to_text(request.name) +
              " DNSKEY has no RRSIG: it strips DNSSEC records";
  }
  if (problem != upstream_problem_) {
    if (problem.empty()) {
      DP_LOG(kInfo, "DNSSEC through the upstream works again");
    } else {
      DP_LOG(kError, "the upstream cannot do DNSSEC: validation fails every answer",
             {"problem", problem},
             {"fix", "an upstream that passes DNSSEC records (DO=1), or --dnssec off"});
    }
    upstream_problem_ = problem;
  }
  // A key-signing key no anchor covers (a new root KSK being rolled in), or a revoked anchor.
  const auto anchored = [&](std::uint16_t tag, std::uint8_t algorithm) {
    return std::any_of(anchor->ds.begin(), anchor->ds.end(),
                       [&](const dnssec::Ds& ds) {
                         return ds.key_tag == tag && ds.algorithm == algorithm;
                       }) ||
           std::any_of(anchor->keys.begin(), anchor->keys.end(), [&](const dnssec::Dnskey& k) {
             return k.key_tag == tag && k.algorithm == algorithm;
           });
  };
  for (const dnssec::Dnskey& key : keys) {
    if ((key.flags & kFlagSep) == 0) continue;
    if ((key.flags & dnssec::Dnskey::kFlagRevoke) != 0) {
      dnssec::Bytes unrevoked = key.rdata;
      unrevoked[1] = static_cast<std::uint8_t>(unrevoked[1] & ~dnssec::Dnskey::kFlagRevoke);
      const std::uint16_t tag = dnssec::key_tag_compute(unrevoked);
      if (anchored(tag, key.algorithm)) {
        ++anchor_warnings_;
        DP_LOG(kWarn, "a trust anchor's key is revoked (RFC 5011): update the trust anchor",
               {"zone", dnssec::name_to_text(request.name)}, {"key_tag", std::to_string(tag)});
      }
    } else if (!anchored(key.key_tag, key.algorithm)) {
      ++anchor_warnings_;
      DP_LOG(kWarn, "a key-signing key no trust anchor covers: update the trust anchor",
             {"zone", dnssec::name_to_text(request.name)}, {"key_tag", std::to_string(key.key_tag)},
             {"algorithm", std::to_string(key.algorithm)});
    }
  }
}

DnssecValidator::DnssecValidator(std::shared_ptr<const dnssec::ChainConfig> config,
                                 std::size_t key_cache_bytes, FetchRoute route,
                                 WallClock wall_clock)
    : config_(std::move(config)),
      keys_(key_cache_bytes),
      route_(std::move(route)),
      wall_clock_(std::move(wall_clock)) {}

void DnssecValidator::validate(dnssec::AnswerRecords&& answer, Done done) {
  const std::uint64_t id = next_id_++;
  Validation& validation = validations_[id];
  validation.targets = dnssec::answer_trust_targets(answer);
  validation.answer = std::move(answer);
  validation.done = std::move(done);
  validation.started = std::chrono::steady_clock::now();
  const bool outer = !draining_;
  draining_ = true;
  step(id);
  if (outer) drain();
}

std::size_t DnssecValidator::keys_forget(std::string_view name, bool subtree) {
  if (!name.empty()) return keys_.forget(name, subtree);
  const std::size_t removed = keys_.entries();
  keys_.clear();
  return removed;
}

void DnssecValidator::set_config(std::shared_ptr<const dnssec::ChainConfig> config) {
  config_ = std::move(config);
  keys_.clear();
}

void DnssecValidator::step(std::uint64_t id) {
  const auto found = validations_.find(id);
  if (found == validations_.end()) return;
  Validation& validation = found->second;
  const std::uint32_t now = wall_clock_();
  std::unordered_map<std::string, dnssec::ZoneTrust> trusts;
  bool waiting = false;
  for (const std::string& target : validation.targets) {
    dnssec::ChainStep next = dnssec::chain_walk(keys_, *config_, target, now);
    if (!next.fetch) {
      trusts.emplace(target, std::move(next.trust));
      continue;
    }
    waiting = true;
    if (!fetch_join(*next.fetch, id, validation)) {
      dnssec::AnswerVerdict over;
      over.limit_tripped = true;
      over.verdict = {dnssec::Status::kBogus, dnssec::Ede::kDnssecBogus,
                      "more than " + std::to_string(dnssec::AnswerLimits{}.max_fetches) +
                          " DS and DNSKEY fetches for one answer"};
      finish(id, std::move(over));
      return;
    }
  }
  if (waiting) return;
  const dnssec::TrustLookup lookup = [&trusts](std::string_view name) -> const dnssec::ZoneTrust* {
    const auto it = trusts.find(std::string(name));
    return it == trusts.end() ? nullptr : &it->second;
  };
  dnssec::AnswerLimits limits;
  limits.max_verifications -= std::min(limits.max_verifications, validation.verifications.total);
  dnssec::AnswerVerdict verdict =
      dnssec::answer_validate(validation.answer, lookup, now, config_->options, limits);
  // The chain's checks are not added here: a fetch shared by several answers did them once
  // (chain_checks_), while each answer's cap above counted them in full.
  verdict.limit_tripped = verdict.limit_tripped || validation.limit_tripped;
  finish(id, std::move(verdict));
}

bool DnssecValidator::fetch_join(const dnssec::ChainFetch& request, std::uint64_t id,
                                 Validation& validation) {
  const std::string key = fetch_key(request);
  const auto running = fetches_.find(key);
  if (running != fetches_.end()) {
    auto& waiting = running->second.waiting;
    if (std::find(waiting.begin(), waiting.end(), id) == waiting.end()) waiting.push_back(id);
    return true;
  }
  if (validation.fetches >= dnssec::AnswerLimits{}.max_fetches) return false;
  ++validation.fetches;
  fetches_.emplace(key, Fetch{request, {id}});
  fetch_send(key, request);
  return true;
}

void DnssecValidator::fetch_send(const std::string& key, const dnssec::ChainFetch& request) {
  dns::Query query;
  query.rd = true;
  query.has_edns = true;
  query.question = {request.name, request.type, dnssec::kClassIn};
  dns::UpstreamQueryShape shape;
  shape.dnssec = true;
  dns::upstream_query_build_into(query, query_, shape);
  ++fetches_sent_;
  route_(route_name(request))
      .resolve(query_, query.question, [this, key](const upstream::UpstreamResult& result) {
        Arrived arrived{key, {}, {}};
        if (result) {
          arrived.answer.assign(result->begin(), result->end());
        } else {
          arrived.failure = upstream::upstream_error_name(result.error());
        }
        arrived_.push_back(std::move(arrived));
        if (!draining_) drain();
      });
}

void DnssecValidator::drain() {
  draining_ = true;
  while (!arrived_.empty()) {
    Arrived next = std::move(arrived_.front());
    arrived_.erase(arrived_.begin());
    arrived_process(std::move(next));
  }
  draining_ = false;
}

void DnssecValidator::arrived_process(Arrived arrived) {
  const auto found = fetches_.find(arrived.key);
  if (found == fetches_.end()) return;
  Fetch fetch = std::move(found->second);
  fetches_.erase(found);
  std::optional<dnssec::AnswerRecords> answer;
  if (arrived.failure.empty()) {
    answer = dnssec::answer_records_parse(arrived.answer);
    if (!answer) arrived.failure = "unreadable answer";
  }
  if (!answer) ++fetches_failed_;
  anchor_answer_check(fetch.request, answer ? &*answer : nullptr);
  const dnssec::ChainWork work = dnssec::chain_absorb(
      keys_, *config_, fetch.request, answer ? &*answer : nullptr, arrived.failure, wall_clock_());
  chain_checks_ += work.verifications;
  for (const std::uint64_t id : fetch.waiting) {
    const auto validation = validations_.find(id);
    if (validation == validations_.end()) continue;
    validation->second.verifications += work.verifications;
    validation->second.limit_tripped = validation->second.limit_tripped || work.limit_tripped;
    step(id);
  }
}

void DnssecValidator::finish(std::uint64_t id, dnssec::AnswerVerdict verdict) {
  auto node = validations_.extract(id);
  if (node.empty()) return;
  Validation& validation = node.mapped();
  ValidationReport report;
  report.verdict = std::move(verdict);
  report.fetches = validation.fetches;
  report.took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - validation.started);
  validation.done(std::move(validation.answer), report);
}

}  // namespace dp::proxy
