// The validator's per-miss cost: one signature check per algorithm, with the key decoded for the
// call (signature_verify) or once before (PreparedKey: the maths alone), what decoding costs,
// and a typical RRset (two A records) validated with a warm key (parsed DNSKEY, as the key
// cache will hold it, prepared or not): canonical form, the RFC 4035 §5.3.1 checks and the maths.
#include <benchmark/benchmark.h>

#include <optional>
#include <string>
#include <vector>

#include "dnssec/canonical.h"
#include "dnssec/rrset_verify.h"
#include "dnssec/signature_check.h"
#include "tests/dnssec/test_signer.h"

namespace dp::dnssec {
namespace {

using testing::kNow;
using testing::name_wire;
using testing::rr_parse;
using testing::TestKey;

// RSA keys at 2048 bits, as zones use them; ldns ignores the size for the others.
constexpr std::uint16_t kRsaBits = 2048;

std::vector<Rr> typical_rrset() {
  return {rr_parse("www.example.com. 300 IN A 192.0.2.1"),
          rr_parse("www.example.com. 300 IN A 192.0.2.2")};
}

// Every algorithm we verify, by its number, as the bench's name shows it.
void all_algorithms(benchmark::internal::Benchmark* bench) {
  for (const auto algorithm : {LDNS_SIGN_RSASHA256, LDNS_SIGN_RSASHA512, LDNS_SIGN_ECDSAP256SHA256,
                               LDNS_SIGN_ECDSAP384SHA384, LDNS_SIGN_ED25519, LDNS_SIGN_ED448}) {
    bench->Arg(algorithm);
  }
}

// A typical RRset's signed data and RRSIG, and the key that made them.
struct SignedRrset {
  explicit SignedRrset(const benchmark::State& state)
      : key("example.com.", static_cast<ldns_signing_algorithm>(state.range(0)), 256, kRsaBits),
        rrset(typical_rrset()),
        sig_rr(key.sign(rrset)),
        sig(*rrsig_parse(sig_rr.rdata)),
        dnskey(key.parsed()) {
    signed_data_build(sig_rr.rdata, sig, rrset[0].owner, rrset[0].type, rrset[0].rclass,
                      *rrset_canonical_rdatas(rrset), data);
  }
  TestKey key;
  std::vector<Rr> rrset;
  Rr sig_rr;
  Rrsig sig;  // points into sig_rr
  Dnskey dnskey;
  Bytes data;
};

// The key decoded on every call, as before issue #16's prepared keys.
void BM_SignatureVerify(benchmark::State& state) {
  const SignedRrset s(state);
  for (auto _ : state) {
    const SignatureCheck result =
        signature_verify(s.sig.algorithm, s.dnskey.public_key(), s.data, s.sig.signature);
    if (result != SignatureCheck::kOk) state.SkipWithError("signature does not verify");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_SignatureVerify)->Apply(all_algorithms);

// The maths alone: the key decoded once.
void BM_PreparedKeyVerify(benchmark::State& state) {
  const SignedRrset s(state);
  const std::optional<PreparedKey> prepared =
      PreparedKey::make(s.sig.algorithm, s.dnskey.public_key());
  if (!prepared) {
    state.SkipWithError("key not prepared");
    return;
  }
  for (auto _ : state) {
    const SignatureCheck result = prepared->verify(s.data, s.sig.signature);
    if (result != SignatureCheck::kOk) state.SkipWithError("signature does not verify");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_PreparedKeyVerify)->Apply(all_algorithms);

// What decoding a key costs: paid once per key set kept in the key cache.
void BM_PreparedKeyMake(benchmark::State& state) {
  const SignedRrset s(state);
  for (auto _ : state) {
    std::optional<PreparedKey> prepared = PreparedKey::make(s.sig.algorithm, s.dnskey.public_key());
    if (!prepared) state.SkipWithError("key not prepared");
    benchmark::DoNotOptimize(prepared);
  }
}
BENCHMARK(BM_PreparedKeyMake)->Apply(all_algorithms);

void BM_RrsetVerifyWarmKey(benchmark::State& state) {
  const auto algorithm = static_cast<ldns_signing_algorithm>(state.range(0));
  const TestKey key("example.com.", algorithm, 256, kRsaBits);
  const std::vector<Rr> rrset = typical_rrset();
  const std::vector<Rr> sigs = {key.sign(rrset)};
  const std::vector<Dnskey> keys = {key.parsed()};
  const std::string zone = name_wire("example.com.");
  for (auto _ : state) {
    const RrsetVerdict verdict = rrset_verify(rrset, sigs, zone, keys, kNow);
    if (verdict.verdict.status != Status::kSecure) state.SkipWithError("not secure");
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_RrsetVerifyWarmKey)
    ->Arg(LDNS_SIGN_RSASHA256)
    ->Arg(LDNS_SIGN_ECDSAP256SHA256)
    ->Arg(LDNS_SIGN_ED25519);

// The same with the key prepared (dnskey_prepare), as a key cache keeps it.
void BM_RrsetVerifyPreparedKey(benchmark::State& state) {
  const auto algorithm = static_cast<ldns_signing_algorithm>(state.range(0));
  const TestKey key("example.com.", algorithm, 256, kRsaBits);
  const std::vector<Rr> rrset = typical_rrset();
  const std::vector<Rr> sigs = {key.sign(rrset)};
  std::vector<Dnskey> keys = {key.parsed()};
  if (!dnskey_prepare(keys[0])) {
    state.SkipWithError("key not prepared");
    return;
  }
  const std::string zone = name_wire("example.com.");
  for (auto _ : state) {
    const RrsetVerdict verdict = rrset_verify(rrset, sigs, zone, keys, kNow);
    if (verdict.verdict.status != Status::kSecure) state.SkipWithError("not secure");
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_RrsetVerifyPreparedKey)
    ->Arg(LDNS_SIGN_RSASHA256)
    ->Arg(LDNS_SIGN_ECDSAP256SHA256)
    ->Arg(LDNS_SIGN_ED25519);

// What a check costs before the maths: an RRSIG refused by its signer name (CVE-2022-3346).
void BM_RrsetVerifyRefusedBeforeTheMaths(benchmark::State& state) {
  const TestKey key("example.org.", LDNS_SIGN_ED25519, 256);
  const std::vector<Rr> rrset = typical_rrset();
  const std::vector<Rr> sigs = {key.sign(rrset)};
  const std::vector<Dnskey> keys = {key.parsed()};
  const std::string zone = name_wire("example.org.");
  for (auto _ : state) {
    const RrsetVerdict verdict = rrset_verify(rrset, sigs, zone, keys, kNow);
    benchmark::DoNotOptimize(verdict);
  }
}
BENCHMARK(BM_RrsetVerifyRefusedBeforeTheMaths);

}  // namespace
}  // namespace dp::dnssec
