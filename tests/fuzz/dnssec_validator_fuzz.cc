// libFuzzer target for the DNSSEC validator (issue #16): any bytes as an upstream answer and as
// the answers to every DS and DNSKEY fetch it makes, through the fetch driver with a root
// trust anchor (a DS, a DNSKEY, or the first fetch's keys: the first byte says). The chain walk,
// denial proofs, CNAME following and limits meet hostile records; nothing may crash, leak or hang,
// the verdict comes exactly once, and the fetch cap holds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <vector>

#include "dnssec/answer_records.h"
#include "dnssec/chain.h"
#include "proxy/dnssec_validator.h"

namespace {

// The input cut into messages: [2-byte length][bytes]..., the last one taking what is left.
std::vector<std::span<const std::uint8_t>> messages_of(std::span<const std::uint8_t> data) {
  std::vector<std::span<const std::uint8_t>> out;
  while (data.size() >= 2) {
    const std::size_t size = std::min<std::size_t>(data.size() - 2, data[0] << 8 | data[1]);
    out.push_back(data.subspan(2, size));
    data = data.subspan(2 + size);
  }
  return out;
}

// Answers each fetch at once with the next message; fails it once they run out.
class ScriptedUpstream final : public dp::upstream::Upstream {
 public:
  explicit ScriptedUpstream(std::vector<std::span<const std::uint8_t>> replies)
      : replies_(std::move(replies)) {}
  void resolve(std::span<const std::uint8_t>, const dp::dns::Question&, Callback done) override {
    ++calls;
    if (next_ < replies_.size()) {
      done(dp::upstream::UpstreamResult(replies_[next_++]));
    } else {
      done(dp::upstream::UpstreamResult(dp::unexpected(dp::upstream::UpstreamError::kTimeout)));
    }
  }
  std::size_t calls = 0;

 private:
  std::vector<std::span<const std::uint8_t>> replies_;
  std::size_t next_ = 0;
};

// The root anchor: with bit 0 of `control`, the DNSKEYs of the first fetch's answer (so that
// seeds recorded from scripts/dnssec-lab validate all the way down and the fuzzer mutates
// from there); else a key of zeros or a DS nothing matches.
std::shared_ptr<const dp::dnssec::ChainConfig> config_for(
    std::uint8_t control, const std::vector<std::span<const std::uint8_t>>& fetches) {
  auto config = std::make_shared<dp::dnssec::ChainConfig>();
  dp::dnssec::TrustAnchor root{std::string(1, '\0'), {}, {}};
  if ((control & 1) != 0 && !fetches.empty()) {
    if (auto keys = dp::dnssec::answer_records_parse(fetches.front())) {
      for (const dp::dnssec::Rr& rr : keys->answer) {
        if (rr.type != dp::dnssec::kTypeDnskey) continue;
        if (auto key = dp::dnssec::dnskey_parse(rr.rdata)) root.keys.push_back(*key);
      }
    }
  }
  if (!root.keys.empty()) {
    // taken from the input
  } else if ((control & 8) != 0) {
    dp::dnssec::Dnskey key;  // an ECDSA P-256 key of zeros: anything may claim its tag
    key.rdata = {1, 1, 3, 13};
    key.rdata.resize(4 + 64, 0);
    key.flags = 257;
    key.protocol = 3;
    key.algorithm = 13;
    key.key_tag = dp::dnssec::key_tag_compute(key.rdata);
    root.keys.push_back(key);
  } else {
    root.ds.push_back(dp::dnssec::Ds{20326, 8, 2, std::vector<std::uint8_t>(32, 0xab)});
  }
  config->anchors.push_back(std::move(root));
  if ((control & 2) != 0) config->insecure_domains.push_back(std::string("\4test\0", 6));
  return config;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto messages = messages_of(std::span<const std::uint8_t>(data + 1, size - 1));
  if (messages.empty()) return 0;
  auto answer = dp::dnssec::answer_records_parse(messages.front());
  if (!answer) return 0;
  messages.erase(messages.begin());
  auto config = config_for(data[0], messages);
  ScriptedUpstream upstream(std::move(messages));
  dp::proxy::DnssecValidator validator(
      std::move(config), 1 << 16,
      [&](std::string_view) -> dp::upstream::Upstream& { return upstream; },
      // When the seeds were recorded (2026-12-06): their signatures are valid then.
      [] { return std::uint32_t{1'796'570'000}; });
  int verdicts = 0;
  std::size_t fetches = 0;
  validator.validate(std::move(*answer), [&](dp::dnssec::AnswerRecords&& judged,
                                             const dp::proxy::ValidationReport& r) {
    ++verdicts;
    fetches = r.fetches;
    std::vector<std::uint8_t> wire;
    (void)dp::dnssec::answer_records_write(judged, (data[0] & 4) != 0, true, wire);
  });
  // The scripted upstream answers at once: the verdict must have come, within the caps.
  if (verdicts != 1 || validator.pending() != 0) std::abort();
  if (fetches > dp::dnssec::AnswerLimits{}.max_fetches) std::abort();
  return 0;
}
