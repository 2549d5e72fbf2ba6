#include "cache/cache.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "cache/cache_key.h"
#include "dns/test_packets.h"

namespace dp::cache {
namespace {

using dns::testing::answer_build;
using dns::testing::Bytes;
using dns::testing::ldns_parse;
using dns::testing::query_build;
using dns::testing::Records;
using dns::testing::ttls_of;
using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint kStart = TimePoint{} + std::chrono::hours(1);

dns::StoredAnswer a_answer(const std::string& name, std::uint32_t ttl, int records = 1) {
  Records r;
  for (int i = 0; i < records; ++i) {
    r.answer.push_back(name + " " + std::to_string(ttl) + " IN A 192.0.2." + std::to_string(i));
  }
  auto s = dns::stored_answer_make(answer_build(name, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, r),
                                   dns::TtlPolicy{});
  EXPECT_TRUE(s.has_value());
  return *s;
}

class CacheTest : public ::testing::Test {
 protected:
  explicit CacheTest(CacheOptions options = {}) : cache_(options) {}

  // Inserts `name`'s answer with `ttl`, stored at `at`.
  void put(const std::string& name, std::uint32_t ttl, TimePoint at, int records = 1) {
    const dns::Query query = dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A));
    cache_key_build(query, key_);
    cache_.insert(key_, a_answer(name, ttl, records), at);
  }
  // Looks `name` up as asked (its case kept) at `at`; the reply lands in reply_.
  Lookup get(const std::string& name, TimePoint at, bool build_stale = false,
             std::size_t max_size = dns::kMaxMessageSize, std::uint16_t udp_size = 0) {
    const dns::Query query = dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A, udp_size));
    cache_key_build(query, key_);
    reply_.clear();
    return cache_.lookup(key_, at, query, max_size, build_stale, reply_);
  }

  Cache cache_;
  std::string key_;
  Bytes reply_;
};

TEST_F(CacheTest, AnEntryIsFreshUntilItsTtlToTheSecondAndAgesMeanwhile) {
  put("a.example.", 60, kStart);
  EXPECT_EQ(get("a.example.", kStart).state, Freshness::kFresh);
  EXPECT_EQ(ttls_of(reply_), (std::vector<std::uint32_t>{60}));
  EXPECT_EQ(get("a.example.", kStart + milliseconds(2'500)).state, Freshness::kFresh);
  EXPECT_EQ(ttls_of(reply_), (std::vector<std::uint32_t>{58}));  // whole seconds of age
  EXPECT_EQ(get("a.example.", kStart + milliseconds(59'999)).state, Freshness::kFresh);
  EXPECT_EQ(ttls_of(reply_), (std::vector<std::uint32_t>{1}));
  const Lookup expired = get("a.example.", kStart + seconds(60));
  EXPECT_EQ(expired.state, Freshness::kStale);
  EXPECT_FALSE(expired.built);  // the caller asks upstream first
  EXPECT_TRUE(reply_.empty());
}

TEST_F(CacheTest, KeyHoldsTypeDoAndCdButNotTheCase) {
  put("a.example.", 60, kStart);
  EXPECT_EQ(get("A.ExAmPlE.", kStart).state, Freshness::kFresh);
  // The reply carries the question as this client wrote it (0x20).
  const Bytes query = query_build("A.ExAmPlE.", LDNS_RR_TYPE_A);
  EXPECT_TRUE(std::equal(query.begin() + 12, query.end(), reply_.begin() + 12));

  dns::Query other = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_AAAA));
  cache_key_build(other, key_);
  EXPECT_EQ(cache_.lookup(key_, kStart, other, 512, false, reply_).state, Freshness::kMiss);
  dns::Query with_do = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_A, 1232, true));
  cache_key_build(with_do, key_);
  EXPECT_EQ(cache_.lookup(key_, kStart, with_do, 512, false, reply_).state, Freshness::kMiss);
  dns::Query with_cd = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_A));
  with_cd.cd = true;
  cache_key_build(with_cd, key_);
  EXPECT_EQ(cache_.lookup(key_, kStart, with_cd, 512, false, reply_).state, Freshness::kMiss);
}

TEST_F(CacheTest, AHitIsTruncatedForEachClientNotOnceForTheEntry) {
  put("big.example.", 60, kStart, 100);
  EXPECT_TRUE(get("big.example.", kStart, false, 512).built);
  EXPECT_LE(reply_.size(), 512u);
  EXPECT_NE(reply_[2] & 0x02, 0);
  EXPECT_TRUE(get("big.example.", kStart, false, dns::kMaxMessageSize).built);
  EXPECT_EQ(reply_[2] & 0x02, 0);
  EXPECT_EQ(ldns_pkt_ancount(ldns_parse(reply_).get()), 100);
}

TEST_F(CacheTest, StaleAnswersAreServedWithinMaxStaleOnlyAndThenDropped) {
  put("a.example.", 60, kStart);
  const Lookup stale = get("a.example.", kStart + seconds(600), /*build_stale=*/true, 1232, 1232);
  EXPECT_EQ(stale.state, Freshness::kStale);
  ASSERT_TRUE(stale.built);
  EXPECT_EQ(ttls_of(reply_), (std::vector<std::uint32_t>{dns::kStaleTtl}));
  EXPECT_EQ(dns::testing::edns_data(ldns_parse(reply_)), (Bytes{0, 15, 0, 2, 0, 3}));
  // One day (max_stale) after expiry it is gone for good.
  EXPECT_EQ(get("a.example.", kStart + seconds(60) + seconds(86'400), true).state,
            Freshness::kMiss);
  EXPECT_EQ(cache_.stats().removed_too_old, 1u);
  EXPECT_EQ(cache_.stats().entries, 0u);
}

TEST_F(CacheTest, AFailedRefreshServesTheStaleAnswerAtOnceUntilRetry) {
  put("a.example.", 60, kStart);
  const TimePoint later = kStart + seconds(70);
  EXPECT_FALSE(get("a.example.", later).built);
  EXPECT_TRUE(cache_.refresh_failed(key_, later, later + seconds(5)));
  const Lookup failing = get("a.example.", later + seconds(1));
  EXPECT_TRUE(failing.refresh_failing);
  EXPECT_TRUE(failing.built);  // no waiting on an upstream that just failed
  EXPECT_FALSE(get("a.example.", later + seconds(5)).built);  // time to try again
  // Nothing held: the caller answers with the failure.
  dns::Query none = dns::testing::parsed(query_build("none.example.", LDNS_RR_TYPE_A));
  cache_key_build(none, key_);
  EXPECT_FALSE(cache_.refresh_failed(key_, later, later + seconds(5)));
}

TEST_F(CacheTest, PrefetchIsDueInTheLastTenthOfTheTtl) {
  put("a.example.", 100, kStart);
  EXPECT_FALSE(get("a.example.", kStart + seconds(89)).prefetch_due);
  EXPECT_TRUE(get("a.example.", kStart + seconds(90)).prefetch_due);
  EXPECT_TRUE(get("a.example.", kStart + seconds(99)).prefetch_due);
}

TEST(CacheOptionsTest, NoServeStaleMeansExpiredIsAMiss) {
  Cache cache(CacheOptions{.serve_stale = false});
  const dns::Query query = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_A));
  std::string key;
  cache_key_build(query, key);
  cache.insert(key, a_answer("a.example.", 60), kStart);
  Bytes out;
  EXPECT_EQ(cache.lookup(key, kStart + seconds(61), query, 512, true, out).state, Freshness::kMiss);
}

TEST(CacheOptionsTest, PrefetchOffIsNeverDue) {
  Cache cache(CacheOptions{.prefetch_percent = 0});
  const dns::Query query = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_A));
  std::string key;
  cache_key_build(query, key);
  cache.insert(key, a_answer("a.example.", 60), kStart);
  Bytes out;
  EXPECT_FALSE(
      cache.lookup(key, kStart + milliseconds(59'999), query, 512, false, out).prefetch_due);
}

TEST_F(CacheTest, ZeroTtlIsNotStoredAndAReplacementWins) {
  put("zero.example.", 0, kStart);
  EXPECT_EQ(get("zero.example.", kStart).state, Freshness::kMiss);
  put("a.example.", 60, kStart);
  put("a.example.", 300, kStart + seconds(10));
  EXPECT_TRUE(get("a.example.", kStart + seconds(10)).built);
  EXPECT_EQ(ttls_of(reply_), (std::vector<std::uint32_t>{300}));
  EXPECT_EQ(cache_.stats().entries, 1u);
  EXPECT_EQ(cache_.stats().replaced, 1u);
}

// The shard on its own: eviction order and collisions, with hashes chosen by the test.
class CacheShardTest : public ::testing::Test {
 protected:
  // The cache key of `label`.example. A, kept for as long as the test runs (KeyRef views it).
  const std::string& key(const std::string& label) {
    auto [it, added] = keys_.try_emplace(label);
    if (added) {
      cache_key_build(dns::testing::parsed(query_build(label + ".example.", LDNS_RR_TYPE_A)),
                      it->second);
    }
    return it->second;
  }
  KeyRef ref(const std::string& label) { return KeyRef::of(key(label)); }
  Entry* entry(const std::string& label, std::uint32_t ttl, TimePoint at) {
    return Entry::create(key(label), a_answer(label + ".example.", ttl), at);
  }

  std::map<std::string, std::string> keys_;
};

TEST_F(CacheShardTest, ExpiredEntriesAreEvictedBeforeTheLeastRecentlyUsed) {
  Entry* probe = entry("k0", 60, kStart);
  const std::size_t one = probe->footprint();
  Entry::destroy(probe);
  Shard shard(4 * (one + 256));
  shard.insert(ref("old-long"), entry("old-long", 3600, kStart), kStart);
  shard.insert(ref("short"), entry("short", 10, kStart), kStart);
  shard.insert(ref("new-long"), entry("new-long", 3600, kStart), kStart);
  // "old-long" is least recently used, but "short" has expired by now: it goes first.
  const TimePoint later = kStart + seconds(20);
  std::size_t inserted = 0;
  while (shard.stats().evicted_expired + shard.stats().evicted_lru == 0) {
    const std::string label = "filler" + std::to_string(inserted++);
    shard.insert(ref(label), entry(label, 3600, later), later);
  }
  EXPECT_EQ(shard.stats().evicted_expired, 1u);
  EXPECT_EQ(shard.find(ref("short")), nullptr);
  EXPECT_NE(shard.find(ref("old-long")), nullptr);
  // With nothing expired, the least recently used goes, and a touch saves an entry.
  shard.touch(shard.find(ref("old-long")), later);
  while (shard.stats().evicted_lru == 0) {
    const std::string label = "filler" + std::to_string(inserted++);
    shard.insert(ref(label), entry(label, 3600, later), later);
  }
  EXPECT_NE(shard.find(ref("old-long")), nullptr);
  EXPECT_EQ(shard.find(ref("new-long")), nullptr);
}

TEST_F(CacheShardTest, TheLruOrderIsKeptToTheSecond) {
  // A budget of two entries and a half, measured on a shard that holds them all.
  Shard sizing(1 << 20);
  sizing.insert(ref("a"), entry("a", 600, kStart), kStart);
  sizing.insert(ref("b"), entry("b", 600, kStart), kStart);
  const std::size_t two = sizing.held_bytes();
  sizing.insert(ref("c"), entry("c", 600, kStart), kStart);
  Shard shard(two + (sizing.held_bytes() - two) / 2);
  shard.insert(ref("a"), entry("a", 600, kStart), kStart);
  shard.insert(ref("b"), entry("b", 600, kStart), kStart);
  // Used again in the second it was stored in: no relink, "a" is still the older one.
  shard.touch(shard.find(ref("a")), kStart + std::chrono::milliseconds(900));
  shard.insert(ref("c"), entry("c", 600, kStart), kStart + seconds(1));
  ASSERT_EQ(shard.stats().entries, 2u) << "the budget holds two";
  EXPECT_EQ(shard.find(ref("a")), nullptr);
  // In a later second a use counts: "b" is saved, "c" goes.
  shard.touch(shard.find(ref("b")), kStart + seconds(2));
  shard.insert(ref("d"), entry("d", 600, kStart), kStart + seconds(2));
  EXPECT_NE(shard.find(ref("b")), nullptr);
  EXPECT_EQ(shard.find(ref("c")), nullptr);
}

TEST_F(CacheShardTest, KeysWithTheSameHashAreTellApartByTheirBytes) {
  Shard shard(1 << 20);
  const TimePoint at = kStart;
  shard.insert(KeyRef{key("first"), 42}, entry("first", 60, at), at);
  shard.insert(KeyRef{key("second"), 42}, entry("second", 300, at), at);
  Entry* first = shard.find(KeyRef{key("first"), 42});
  Entry* second = shard.find(KeyRef{key("second"), 42});
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(first->has_key(key("first")));
  EXPECT_FALSE(first->has_key(key("second")));
  EXPECT_TRUE(second->has_key(key("second")));
  EXPECT_EQ(first->ttl_seconds, 60u);
  EXPECT_EQ(shard.find(KeyRef{key("third"), 42}), nullptr);
}

TEST_F(CacheShardTest, AnEntryIsMadeOnlyUnderTheKeyOfTheQuestionItAnswers) {
  EXPECT_EQ(Entry::create(key("other"), a_answer("a.example.", 60), kStart), nullptr);
  std::string aaaa;
  cache_key_build(dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_AAAA)), aaaa);
  EXPECT_EQ(Entry::create(aaaa, a_answer("a.example.", 60), kStart), nullptr);
  EXPECT_EQ(Entry::create("", a_answer("a.example.", 60), kStart), nullptr);
  // Case is no difference: the entry keeps the key's (lowered) bytes.
  Entry* mixed = Entry::create(key("mixed"), a_answer("MiXeD.eXaMpLe.", 60), kStart);
  ASSERT_NE(mixed, nullptr);
  EXPECT_TRUE(mixed->has_key(key("mixed")));
  std::string with_do = key("mixed");
  with_do[0] = 0x01;
  EXPECT_FALSE(mixed->has_key(with_do));
  Entry::destroy(mixed);
  // QTYPE and QCLASS are numbers, not letters: type 65 (HTTPS) is the byte 'A' (cache_fuzz).
  Records https;
  https.answer.push_back("a.example. 60 IN HTTPS 1 . alpn=h2");
  auto stored = dns::stored_answer_make(answer_build("a.example.", LDNS_RR_TYPE_HTTPS, LDNS_RCODE_NOERROR, https),
                                        dns::TtlPolicy{});
  ASSERT_TRUE(stored.has_value());
  std::string https_key;
  cache_key_build(dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_HTTPS)), https_key);
  Entry* for_https = Entry::create(https_key, *stored, kStart);
  ASSERT_NE(for_https, nullptr);
  EXPECT_TRUE(for_https->has_key(https_key));
  Entry::destroy(for_https);
}

TEST_F(CacheShardTest, ARetryTimeAfterAFailedRefreshLeavesWithItsEntry) {
  Shard shard(1 << 20);
  shard.insert(ref("a"), entry("a", 60, kStart), kStart);
  Entry* a = shard.find(ref("a"));
  const std::size_t before = shard.held_bytes();
  EXPECT_FALSE(shard.refresh_failing(a, kStart + seconds(65)));
  shard.set_refresh_failing(a, kStart + seconds(70));
  EXPECT_GT(shard.held_bytes(), before);  // the budget counts the record
  EXPECT_TRUE(shard.refresh_failing(a, kStart + seconds(65)));
  EXPECT_FALSE(shard.refresh_failing(a, kStart + seconds(70)));  // time to try again
  // A successful refresh replaces the entry: nothing of the failure stays behind.
  const TimePoint later = kStart + seconds(71);
  shard.insert(ref("a"), entry("a", 60, later), later);
  EXPECT_FALSE(shard.refresh_failing(shard.find(ref("a")), later));
  EXPECT_EQ(shard.held_bytes(), before);
}

TEST_F(CacheShardTest, AnAnswerLargerThanTheShardIsRefused) {
  Shard shard(100);  // less than one entry and its map node
  EXPECT_FALSE(shard.insert(ref("k"), entry("k", 60, kStart), kStart));
  EXPECT_EQ(shard.stats().rejected_too_big, 1u);
  EXPECT_EQ(shard.stats().entries, 0u);
}

TEST(CacheBudgetTest, WhatIsHeldNeverExceedsTheBudgetUnderRandomTraffic) {
  constexpr std::size_t kBudget = 1 << 20;
  Cache cache(CacheOptions{.max_bytes = kBudget});
  std::mt19937 random(7);  // seeded: the same run every time
  std::string key;
  Bytes out;
  TimePoint now = kStart;
  std::size_t hits = 0;
  for (int i = 0; i < 40'000; ++i) {
    now += milliseconds(random() % 50);
    const std::string name = "n" + std::to_string(random() % 20'000) + ".example.";
    const dns::Query query = dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A));
    cache_key_build(query, key);
    if (cache.lookup(key, now, query, 512, false, out).built) {
      ++hits;
    } else {
      cache.insert(key, a_answer(name, 1 + random() % 600, 1 + random() % 8), now);
    }
    ASSERT_LE(cache.stats().bytes, kBudget) << "after " << i << " operations";
  }
  const ShardStats stats = cache.stats();
  EXPECT_GT(stats.evicted_lru + stats.evicted_expired, 0u);  // the budget was under pressure
  EXPECT_GT(hits, 0u);
  EXPECT_GT(stats.entries, 1'000u);
}

}  // namespace
}  // namespace dp::cache
