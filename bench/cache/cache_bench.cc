// The cache's hot and warm paths: a hit (lookup + rebuild for the client) and an insert that
// evicts, at 1k and 1M entries; plus the once-per-answer parse into the stored form.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "bench/bench_packets.h"
#include "cache/cache.h"
#include "cache/cache_key.h"
#include "dns/message.h"
#include "dns/reply.h"
#include "dns/stored_answer.h"

namespace dp::cache {
namespace {

using bench::Bytes;

const TimePoint kNow = TimePoint{} + std::chrono::hours(1);

std::string name_of(std::size_t i) { return "n" + std::to_string(i) + ".example.com."; }

// A client query for `name` A, EDNS 1232, mixed case as dig +0x20 would send it.
dns::Query client_query(const std::string& name) {
  std::string mixed = name;
  for (std::size_t i = 0; i < mixed.size(); i += 2)
    mixed[i] = static_cast<char>(std::toupper(mixed[i]));
  return *dns::query_parse(bench::query_wire(mixed));
}

// The upstream's answer for `name`: `records` A records, TTL 3600, with its OPT.
Bytes upstream_answer(const std::string& name, int records) {
  return bench::answer_wire(name, records);
}

dns::StoredAnswer stored(const std::string& name, int records = 1) {
  return *dns::stored_answer_make(upstream_answer(name, records), dns::TtlPolicy{});
}

void BM_StoredAnswerMake(benchmark::State& state) {
  const Bytes answer = upstream_answer("www.example.com.", static_cast<int>(state.range(0)));
  for (auto _ : state) {
    auto s = dns::stored_answer_make(answer, dns::TtlPolicy{});
    benchmark::DoNotOptimize(s);
  }
}
BENCHMARK(BM_StoredAnswerMake)->Arg(1)->Arg(8);

void BM_ReplyBuild(benchmark::State& state) {
  const dns::StoredAnswer s = stored("www.example.com.", static_cast<int>(state.range(0)));
  const dns::Query query = client_query("www.example.com.");
  Bytes out;
  for (auto _ : state) {
    dns::reply_build(s.view(), query, dns::ReplyShape{.age_seconds = 7, .max_size = 1232}, out);
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_ReplyBuild)->Arg(1)->Arg(8);

// A hit: key build, shard lock, lookup, clock mark, rebuild with aged TTLs into a reused buffer.
void BM_CacheHit(benchmark::State& state) {
  const auto entries = static_cast<std::size_t>(state.range(0));
  Cache cache(CacheOptions{.max_bytes = std::size_t{1} << 30});
  std::string key;
  for (std::size_t i = 0; i < entries; ++i) {
    const dns::Query q = client_query(name_of(i));
    cache_key_build(q, key);
    cache.insert(key, stored(name_of(i)), kNow);
  }
  // Queries spread over the whole cache, so the 1M case pays its cache misses.
  std::vector<dns::Query> queries;
  std::mt19937 random(1);
  for (int i = 0; i < 4096; ++i) queries.push_back(client_query(name_of(random() % entries)));
  Bytes out;
  std::size_t i = 0;
  for (auto _ : state) {
    const dns::Query& q = queries[i++ & 4095];
    cache_key_build(q, key);
    auto found = cache.lookup(key, kNow + std::chrono::seconds(5), q, 1232, false, out);
    benchmark::DoNotOptimize(found);
  }
  state.counters["bytes_per_entry"] = static_cast<double>(cache.stats().bytes) / entries;
}
BENCHMARK(BM_CacheHit)->Arg(1'000)->Arg(1'000'000);

// An insert into a full cache: each one evicts an entry (the clock hand's first unused one).
// TTLs from 1 min to 1 h, as in real traffic.
void BM_CacheInsertWithEviction(benchmark::State& state) {
  const auto entries = static_cast<std::size_t>(state.range(0));
  // An entry must answer its key's question, and 2M stored answers would not fit the
  // machine's caches either: one answer whose 7-digit label is rewritten per key.
  constexpr std::size_t kDigitsAt = dns::kHeaderSize + 2;  // past the length byte and 'n'
  dns::StoredAnswer answer = stored("n0000000.example.com.");
  const auto label = [](std::size_t i) {
    char digits[24];
    std::snprintf(digits, sizeof digits, "%07zu", i % 10'000'000);
    return std::string(digits, 7);
  };
  const auto insert = [&](Cache& cache, const std::string& key, std::size_t i) {
    std::memcpy(answer.wire.data() + kDigitsAt, key.data() + 3, 7);
    answer.cache_ttl = static_cast<std::uint32_t>(60 + 59 * (i % 61));
    cache.insert(key, answer, kNow);
  };
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < 2 * entries; ++i) {
    // cache_key.h: flags, qname in wire form, QTYPE A, QCLASS IN.
    std::string key{'\0', '\x08', 'n'};
    key += label(i);
    key += '\x07';
    key += "example";
    key += '\x03';
    key += "com";
    key += std::string{'\0', '\0', '\x01', '\0', '\x01'};
    keys.push_back(std::move(key));
  }
  // A budget that holds about `entries` of them.
  Cache sizing(CacheOptions{.max_bytes = std::size_t{1} << 30});
  for (std::size_t i = 0; i < 1000; ++i) insert(sizing, keys[i], i);
  const std::size_t per_entry = sizing.stats().bytes / 1000;
  if (sizing.stats().entries != 1000) state.SkipWithError("an insert was refused");
  Cache cache(CacheOptions{.max_bytes = per_entry * entries});
  for (std::size_t i = 0; i < entries; ++i) insert(cache, keys[i], i);
  std::size_t i = entries;
  for (auto _ : state) {
    insert(cache, keys[i], i);
    if (++i == keys.size()) i = 0;
  }
  const ShardStats stats = cache.stats();
  state.counters["entries"] = static_cast<double>(stats.entries);
  state.counters["evicted"] = static_cast<double>(stats.evicted_lru + stats.evicted_expired);
}
BENCHMARK(BM_CacheInsertWithEviction)->Arg(1'000)->Arg(1'000'000);

}  // namespace
}  // namespace dp::cache
