// The DNSSEC fetch driver (issue #16): runs the chain planner (dnssec/chain.h) for an upstream
// answer, fetches the DS and DNSKEY sets it asks for through the DoT pools (DO=1, CD=1, never
// in clear), one query per set however many answers wait for it, feeds their answers back,
// and judges the answer (dnssec/answer_validate.h) once every name's zone is known. One per
// worker, its thread only, with that worker's key cache.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnssec/answer_records.h"
#include "dnssec/answer_validate.h"
#include "dnssec/chain.h"
#include "dnssec/key_cache.h"
#include "proxy/route_target.h"
#include "upstream/upstream.h"

namespace dp::proxy {

struct WorkerSnapshot;

// What the worker's counters need from one validation.
struct ValidationReport {
  dnssec::AnswerVerdict verdict;
  std::size_t fetches = 0;  // DS/DNSKEY queries this answer started
  std::chrono::microseconds took{0};
};

class DnssecValidator {
 public:
  // The upstream a DS or DNSKEY query for `name` goes to (the default route's, or a forward
  // zone's that validates). Called at each send: a route is never kept across a reload.
  using FetchRoute = std::function<upstream::Upstream&(std::string_view name)>;
  // Unix seconds now (RRSIG times are wall-clock); tests give a fixed one.
  using WallClock = std::function<std::uint32_t()>;
  using Done = std::function<void(dnssec::AnswerRecords&&, const ValidationReport&)>;

  DnssecValidator(std::shared_ptr<const dnssec::ChainConfig> config, std::size_t key_cache_bytes,
                  FetchRoute route, WallClock wall_clock);
  DnssecValidator(const DnssecValidator&) = delete;
  DnssecValidator& operator=(const DnssecValidator&) = delete;

  // Judges `answer`; `done` runs once, perhaps before validate() returns (keys all known).
  void validate(dnssec::AnswerRecords&& answer, Done done);

  // At start: fetches each trust anchor's DNSKEY set, so that an upstream that strips
  // DNSSEC records is known (and said) before the first answer needs it, and warns about
  // key-signing keys no anchor covers or revoked anchors (a root KSK rollover under way).
  void prime();

  // Why validation cannot work through the upstream, or "": its answer to the anchor's DNSKEY
  // query came without RRSIGs (or without the keys). Set and cleared by each such answer.
  const std::string& upstream_problem() const { return upstream_problem_; }
  // RFC 5011 is not done: a key-signing key in the anchor's DNSKEY set that no anchor covers,
  // or an anchor's key with the revoke bit, each counted once per DNSKEY answer.
  std::uint64_t anchor_warnings() const { return anchor_warnings_; }
  // The wall clock is before this build's release date: a device before NTP has run. RRSIG
  // times cannot be judged; the resolver validates as --dnssec permissive meanwhile.
  bool clock_untrusted() const;

  // SIGHUP: new anchors or negative trust anchors; what the key cache learnt under the old
  // ones is forgotten. Validations under way finish with the new configuration.
  void set_config(std::shared_ptr<const dnssec::ChainConfig> config);
  // The control channel's flushes: forget what the key cache holds of `name` (lowercased wire
  // form; with `subtree` of every name under it too; empty: everything), so that the next
  // answers fetch and judge those keys afresh. Returns the entries removed.
  std::size_t keys_forget(std::string_view name, bool subtree);

  std::size_t pending() const { return validations_.size(); }
  const dnssec::KeyCache& keys() const { return keys_; }
  std::uint64_t fetches_sent() const { return fetches_sent_; }
  std::uint64_t fetches_failed() const { return fetches_failed_; }
  // Its part of a worker's snapshot: the key cache, the validations waiting, anchor warnings;
  // under `mode` (the default route's), the clock and the upstream, the upstream's problem in
  // words only where it fails answers (kValidate).
  void snapshot_fill(WorkerSnapshot& out, DnssecMode mode) const;

 private:
  struct Validation {
    dnssec::AnswerRecords answer;
    std::vector<std::string> targets;
    Done done;
    std::size_t fetches = 0;
    dnssec::Verifications verifications{};
    bool limit_tripped = false;
    std::chrono::steady_clock::time_point started;
  };
  struct Fetch {
    dnssec::ChainFetch request;
    std::vector<std::uint64_t> waiting;  // validations to step on when it is answered
  };
  // An upstream answer (or failure) to a fetch, queued: it may come before resolve() returns.
  struct Arrived {
    std::string key;
    std::vector<std::uint8_t> answer;
    std::string failure;  // empty: `answer` holds it
  };

  void step(std::uint64_t id);
  // Starts (or joins) the fetch `request`; false when the validation is over its cap.
  bool fetch_join(const dnssec::ChainFetch& request, std::uint64_t id, Validation& validation);
  void fetch_send(const std::string& key, const dnssec::ChainFetch& request);
  void arrived_process(Arrived arrived);
  void drain();
  void finish(std::uint64_t id, dnssec::AnswerVerdict verdict);
  // What an anchor's DNSKEY answer says about the upstream and the anchors.
  void anchor_answer_check(const dnssec::ChainFetch& request, const dnssec::AnswerRecords* answer);

  std::shared_ptr<const dnssec::ChainConfig> config_;
  dnssec::KeyCache keys_;
  dnssec::Verifications chain_checks_;  // absorbed fetches' checks, once however many waited
  FetchRoute route_;
  WallClock wall_clock_;
  std::unordered_map<std::uint64_t, Validation> validations_;
  std::unordered_map<std::string, Fetch> fetches_;  // by type + name
  std::vector<Arrived> arrived_;
  bool draining_ = false;
  std::uint64_t next_id_ = 1;
  std::uint64_t fetches_sent_ = 0;
  std::uint64_t fetches_failed_ = 0;
  std::uint64_t anchor_warnings_ = 0;
  std::string upstream_problem_;
  std::vector<std::uint8_t> query_;  // the fetch being sent, reused
};

}  // namespace dp::proxy
