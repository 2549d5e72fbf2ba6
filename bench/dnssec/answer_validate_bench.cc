// What validation adds to a miss once the keys are warm (issue #16's target: under 30 µs of
// p50 latency): the upstream answer parsed into records, the chain walked over the key cache,
// the answer judged (one RRSIG checked), and written back for the cache, AD set. With the
// ECDSA P-256 zone of tests/dnssec/signed_tree.h; a DO=0 client's copy has the RRSIG removed.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "dnssec/answer_records.h"
#include "proxy/dnssec_validator.h"
#include "tests/dnssec/signed_tree.h"
#include "tests/fakes/fake_upstream.h"

namespace dp::proxy {
namespace {

using dnssec::testing::answer_make;
using dnssec::testing::kNow;
using dnssec::testing::rr_parse;
using dnssec::testing::signed_by;

void BM_ValidateWarmAnswer(benchmark::State& state) {
  const bool keep_dnssec = state.range(0) != 0;
  dnssec::testing::SignedTree tree;
  dp::testing::FakeUpstream upstream;
  DnssecValidator validator(
      std::make_shared<const dnssec::ChainConfig>(tree.config()), 1 << 20,
      [&](std::string_view) -> upstream::Upstream& { return upstream; }, [] { return kNow; });
  std::vector<std::uint8_t> wire;
  (void)dnssec::answer_records_write(
      answer_make("www.example.", 1, 0,
                  signed_by(tree.example(), {rr_parse("www.example. 300 IN A 192.0.2.1"),
                                             rr_parse("www.example. 300 IN A 192.0.2.2")})),
      true, false, wire);
  // Warm the key cache: answer the three fetches the first validation makes.
  bool secure = false;
  const auto done = [&](dnssec::AnswerRecords&&, const ValidationReport& report) {
    secure = report.verdict.verdict.status == dnssec::Status::kSecure;
  };
  validator.validate(*dnssec::answer_records_parse(wire), done);
  for (std::size_t i = 0; i < upstream.calls.size(); ++i) {
    const auto& call = upstream.calls[i];
    std::vector<std::uint8_t> reply;
    (void)dnssec::answer_records_write(
        *tree.fetch_answer({call.question.qname_lower, call.question.qtype, {}}), true, false,
        reply);
    upstream.answer(i, reply);
  }
  if (!secure) {
    state.SkipWithError("the warm-up answer did not validate");
    return;
  }
  std::vector<std::uint8_t> out;
  for (auto _ : state) {
    auto records = dnssec::answer_records_parse(wire);
    validator.validate(std::move(*records),
                       [&](dnssec::AnswerRecords&& judged, const ValidationReport& report) {
                         secure = report.verdict.verdict.status == dnssec::Status::kSecure;
                         (void)dnssec::answer_records_write(judged, keep_dnssec, secure, out);
                       });
    benchmark::DoNotOptimize(out.data());
  }
  if (!secure) state.SkipWithError("an answer did not validate");
}
BENCHMARK(BM_ValidateWarmAnswer)->ArgName("do")->Arg(0)->Arg(1);

}  // namespace
}  // namespace dp::proxy
