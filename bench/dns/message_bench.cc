// The per-query DNS work on the forwarding path: validate a client query, build the upstream
// query, check the upstream answer, store it and rebuild it for the client.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bench/bench_packets.h"
#include "common/c_ptr.h"
#include "dns/answer_check.h"
#include "dns/ldns_include.h"
#include "dns/message.h"
#include "dns/reply.h"
#include "dns/stored_answer.h"
#include "dns/upstream_query.h"

namespace dp::dns {
namespace {

using bench::Bytes;
using bench::PacketPtr;
using bench::to_wire;

Bytes client_query() {
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, "WwW.ExAmPlE.CoM.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  PacketPtr pkt(raw);
  ldns_pkt_set_id(pkt.get(), 0x1234);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  return to_wire(pkt.get());
}

// An upstream answer with `count` A records for www.example.com.
Bytes upstream_answer(int count) {
  ldns_pkt* raw = nullptr;
  ldns_pkt_query_new_frm_str(&raw, "www.example.com.", LDNS_RR_TYPE_A, LDNS_RR_CLASS_IN, LDNS_RD);
  PacketPtr pkt(raw);
  ldns_pkt_set_qr(pkt.get(), true);
  ldns_pkt_set_ra(pkt.get(), true);
  ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  for (int i = 0; i < count; ++i) {
    ldns_rr* rr = nullptr;
    const std::string text = "www.example.com. 300 IN A 192.0.2." + std::to_string(i % 250);
    ldns_rr_new_frm_str(&rr, text.c_str(), 0, nullptr, nullptr);
    ldns_pkt_push_rr(pkt.get(), LDNS_SECTION_ANSWER, rr);
  }
  return to_wire(pkt.get());
}

void BM_QueryParse(benchmark::State& state) {
  const Bytes wire = client_query();
  for (auto _ : state) {
    auto query = query_parse(wire);
    benchmark::DoNotOptimize(query);
  }
}
BENCHMARK(BM_QueryParse);

// The full ldns validator, which messages outside the common shape still take.
void BM_QueryParseLdns(benchmark::State& state) {
  const Bytes wire = client_query();
  for (auto _ : state) {
    auto query = query_parse_ldns(wire);
    benchmark::DoNotOptimize(query);
  }
}
BENCHMARK(BM_QueryParseLdns);

// Into one reused buffer, as CachedResolver builds every upstream query.
void BM_UpstreamQueryBuild(benchmark::State& state) {
  const Query query = *query_parse(client_query());
  std::vector<std::uint8_t> wire;
  for (auto _ : state) {
    upstream_query_build_into(query, wire);
    benchmark::DoNotOptimize(wire.data());
  }
}
BENCHMARK(BM_UpstreamQueryBuild);

void BM_AnswerCheck(benchmark::State& state) {
  const Query query = *query_parse(client_query());
  const Bytes answer = upstream_answer(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto checked = answer_check(answer, query.question);
    benchmark::DoNotOptimize(checked);
  }
}
BENCHMARK(BM_AnswerCheck)->Arg(1)->Arg(8);

// A checked answer to the client's reply on a miss, as CachedResolver::answer_flight does it:
// the stored form and the reply each into a buffer kept from the answer before.
void BM_AnswerToReply(benchmark::State& state) {
  const Query query = *query_parse(client_query());
  const Bytes answer = upstream_answer(static_cast<int>(state.range(0)));
  StoredAnswer stored;
  std::vector<std::uint8_t> reply;
  for (auto _ : state) {
    const bool made = stored_answer_make_into(answer, TtlPolicy{}, stored);
    reply_build(stored.view(), query, ReplyShape{.max_size = query.udp_reply_limit()}, reply);
    benchmark::DoNotOptimize(made);
    benchmark::DoNotOptimize(reply.data());
  }
}
BENCHMARK(BM_AnswerToReply)->Arg(1)->Arg(8)->Arg(100);

}  // namespace
}  // namespace dp::dns
