#include "cache/cache.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <random>
#include <set>

#include "cache/cache_key.h"
#include "dns/reply.h"
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

// RFC 1035 §4.1.1: a cache is no authority. An upstream's AA=1 is cleared when the answer is
// stored, so the hit, fresh or stale, never claims it.
TEST_F(CacheTest, AHitOfAnAuthoritativeAnswerClaimsNoAuthority) {
  const dns::Query query = dns::testing::parsed(query_build("a.example.", LDNS_RR_TYPE_A));
  cache_key_build(query, key_);
  const Bytes answer = dns::testing::with_aa(answer_build(
      "a.example.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, Records{{"a.example. 60 IN A 192.0.2.1"}}));
  auto stored = dns::stored_answer_make(answer, dns::TtlPolicy{});
  ASSERT_TRUE(stored.has_value());
  cache_.insert(key_, *stored, kStart);
  ASSERT_TRUE(get("a.example.", kStart + seconds(1)).built);
  EXPECT_FALSE(dns::testing::aa_of(reply_));
  ASSERT_TRUE(get("a.example.", kStart + seconds(90), /*build_stale=*/true).built);
  EXPECT_FALSE(dns::testing::aa_of(reply_));
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

// Issue #15: an internal server's answer for a name is never served on another route (another
// forward zone, the default upstreams, or the same zone after a reload moved it).
TEST_F(CacheTest, KeyHoldsTheRouteTag) {
  const dns::Query query = dns::testing::parsed(query_build("web.corp.example.", LDNS_RR_TYPE_A));
  cache_key_build(query, key_, 7);
  ASSERT_TRUE(cache_.insert(key_, a_answer("web.corp.example.", 60, 1), kStart));
  EXPECT_EQ(cache_.lookup(key_, kStart, query, 512, false, reply_).state, Freshness::kFresh);
  for (const std::uint16_t other : {0, 8, 0x0700}) {
    cache_key_build(query, key_, other);
    EXPECT_EQ(cache_.lookup(key_, kStart, query, 512, false, reply_).state, Freshness::kMiss)
        << "route tag " << other;
  }
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

// The clock hand goes round the index's slots in order; a hash below the table's size is the
// slot itself, so these tests lay the ring out as they like. Each key's hash is its slot.
class CacheClockTest : public CacheShardTest {
 protected:
  // A shard that holds `count` entries the size of "a"'s and not one more (the tests' labels
  // are short enough that their entries take the same malloc chunk: checked by `put`).
  void make_shard_of(std::size_t count) {
    Entry* sample = entry("a", 3600, kStart);
    one_ = sample->footprint();
    Entry::destroy(sample);
    Shard sizing(1 << 20);
    for (std::size_t i = 0; i < count; ++i) put_into(sizing, "s" + std::to_string(i), i, 3600);
    shard_.emplace(sizing.held_bytes() + one_ / 2);
  }
  void put_into(Shard& shard, const std::string& label, std::size_t slot, std::uint32_t ttl,
                TimePoint at = kStart) {
    Entry* made = entry(label, ttl, at);
    ASSERT_EQ(made->footprint(), one_ == 0 ? made->footprint() : one_) << label;
    ASSERT_TRUE(shard.insert(KeyRef{key(label), slot}, made, at));
  }
  void put(const std::string& label, std::size_t slot, std::uint32_t ttl, TimePoint at = kStart) {
    put_into(*shard_, label, slot, ttl, at);  // marked used: the first lap spares it
  }
  bool held(const std::string& label, std::size_t slot) {
    return shard_->find(KeyRef{key(label), slot}) != nullptr;
  }
  void use(const std::string& label, std::size_t slot) {
    Shard::touch(shard_->find(KeyRef{key(label), slot}));
  }

  std::size_t one_ = 0;  // the footprint of one entry
  std::optional<Shard> shard_;
};

TEST_F(CacheClockTest, AnExpiredEntryIsEvictedBeforeAFreshOneItPasses) {
  make_shard_of(3);
  put("a", 0, 3600);
  put("short", 1, 10);
  put("c", 2, 3600);
  ASSERT_EQ(shard_->stats().entries, 3u) << "the budget holds three";
  // All three are marked (just stored). The hand spares "a", then meets "short", expired.
  put("d", 3, 3600, kStart + seconds(20));
  EXPECT_EQ(shard_->stats().evicted_expired, 1u);
  EXPECT_EQ(shard_->stats().evicted_lru, 0u);
  EXPECT_FALSE(held("short", 1));
  EXPECT_TRUE(held("a", 0));
  EXPECT_TRUE(held("c", 2));
  EXPECT_TRUE(held("d", 3));
}

TEST_F(CacheClockTest, AnEntryUsedSinceTheHandPassedIsSparedAndTheFirstUnusedOneGoes) {
  make_shard_of(3);
  put("a", 0, 3600);
  put("b", 1, 3600);
  put("c", 2, 3600);
  // The first lap clears every mark ("d" is marked too, being new), and the hand comes
  // round to "a": the least recently used of the three stored first goes.
  put("d", 3, 3600);
  EXPECT_FALSE(held("a", 0));
  EXPECT_EQ(shard_->stats().evicted_lru, 1u);
  // The hand stays at slot 0, now empty, and goes on from there: "b" was used since its last
  // pass, so it is spared and "c" goes.
  use("b", 1);
  put("e", 4, 3600);
  EXPECT_TRUE(held("b", 1));
  EXPECT_FALSE(held("c", 2));
  EXPECT_TRUE(held("d", 3));
  EXPECT_TRUE(held("e", 4));
  EXPECT_EQ(shard_->stats().evicted_lru, 2u);
}

TEST_F(CacheClockTest, AnEntryMovedUnderTheHandByAnEraseIsTheNextOneLookedAt) {
  make_shard_of(3);
  // "a" and "b" both have slot 0 as home: "b" sits in slot 1, and moves into slot 0 when
  // "a" goes (backward-shift deletion).
  put("a", 0, 3600);
  put("b", 0, 3600);
  put("c", 2, 3600);
  put("d", 3, 3600);  // a lap clears the marks; "a" goes and "b" comes under the hand
  ASSERT_FALSE(held("a", 0));
  use("c", 2);
  put("e", 4, 3600);  // "b", unused, is looked at first and goes
  EXPECT_FALSE(held("b", 0));
  EXPECT_TRUE(held("c", 2));
  EXPECT_TRUE(held("d", 3));
}

TEST_F(CacheClockTest, AfterSixtyFourUsedEntriesInARowTheHandTakesTheOneItIsAt) {
  constexpr std::size_t kCount = 80;  // in a table of 128 slots, the hand back at slot 0
  make_shard_of(kCount);
  for (std::size_t i = 0; i < kCount; ++i) put("e" + std::to_string(i), i, 3600);
  ASSERT_EQ(shard_->stats().entries, kCount);
  // Every entry is marked (just stored): a whole lap would read them all. The hand spares
  // 64 and takes the 65th.
  put("new", kCount, 3600);
  EXPECT_EQ(shard_->stats().evicted_lru, 1u);
  EXPECT_FALSE(held("e64", 64));
  for (std::size_t i = 0; i < kCount; ++i) {
    if (i != 64) EXPECT_TRUE(held("e" + std::to_string(i), i)) << i;
  }
  // The 64 it spared lost their marks: the next insert takes the first unmarked one after
  // the hand, "e65" (marked still) is spared, and so on round to "e0".
  put("newer", kCount + 1, 3600);
  EXPECT_FALSE(held("e0", 0));
  EXPECT_TRUE(held("e65", 65));
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
  auto stored = dns::stored_answer_make(
      answer_build("a.example.", LDNS_RR_TYPE_HTTPS, LDNS_RCODE_NOERROR, https), dns::TtlPolicy{});
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
  Entry* k = entry("k", 60, kStart);
  Shard shard(k->footprint() - 1);
  EXPECT_FALSE(shard.insert(ref("k"), k, kStart));
  EXPECT_EQ(shard.stats().rejected_too_big, 1u);
  EXPECT_EQ(shard.stats().entries, 0u);
}

TEST_F(CacheShardTest, AnEntryEvictedToMakeRoomForItselfIsReportedNotKept) {
  // It fits the budget, but not with the index's array beside it: the sweep, finding no
  // other entry, takes it on its second lap.
  Entry* k = entry("k", 60, kStart);
  Shard shard(k->footprint());
  EXPECT_FALSE(shard.insert(ref("k"), k, kStart));
  EXPECT_EQ(shard.stats().entries, 0u);
  EXPECT_EQ(shard.stats().evicted_lru, 1u);
  EXPECT_EQ(shard.find(ref("k")), nullptr);
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

// The control channel's flush, flush-zone, flush-all and dump (cache.h: remove, remove_all,
// visit).
class CacheControlTest : public CacheTest {
 protected:
  // Four shards, so that a flush must reach each, and dense ones, so that erases shift.
  CacheControlTest() : CacheTest(CacheOptions{.max_bytes = 1 << 20}) {}

  // `name`'s A answer under every DO/CD variant and route tags 0 and 7: eight entries.
  void put_variants(const std::string& name, TimePoint at) {
    for (const bool dnssec_ok : {false, true}) {
      for (const bool cd : {false, true}) {
        for (const std::uint16_t tag : {0, 7}) {
          dns::Query query = dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A));
          query.dnssec_ok = dnssec_ok;
          query.cd = cd;
          cache_key_build(query, key_, tag);
          ASSERT_TRUE(cache_.insert(key_, a_answer(name, 60, 1), at));
        }
      }
    }
  }
  static std::string wire(const std::string& text) {
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
      const std::size_t dot = text.find('.', pos);
      out.push_back(static_cast<char>(dot - pos));
      out.append(text, pos, dot - pos);
      pos = dot + 1;
    }
    return out + '\0';
  }
  std::vector<std::string> dumped(TimePoint at, std::size_t slice = 3) {
    std::vector<std::string> names;
    VisitCursor cursor;
    int calls = 0;
    while (cache_.visit(cursor, slice, at, [&](const EntryInfo& e) {
      names.push_back(std::string(e.question.substr(0, e.question.size() - 4)));
    })) {
      ++calls;
    }
    EXPECT_GT(calls, 0);
    return names;
  }
};

TEST_F(CacheControlTest, FlushOfANameRemovesEveryFlagAndRouteVariantAndNothingElse) {
  put_variants("www.example.", kStart);
  put_variants("other.example.", kStart);
  EXPECT_EQ(cache_.stats().entries, 16u);
  EXPECT_EQ(cache_.remove(QuestionMatch{wire("www.example."), std::nullopt, false}), 8u);
  EXPECT_EQ(cache_.stats().entries, 8u);
  EXPECT_EQ(cache_.stats().flushed, 8u);
  EXPECT_EQ(get("www.example.", kStart).state, Freshness::kMiss);
  EXPECT_EQ(get("other.example.", kStart).state, Freshness::kFresh);
}

TEST_F(CacheControlTest, FlushWithATypeLeavesTheNamesOtherTypes) {
  put("www.example.", 60, kStart);
  EXPECT_EQ(cache_.remove(QuestionMatch{wire("www.example."), LDNS_RR_TYPE_AAAA, false}), 0u);
  EXPECT_EQ(get("www.example.", kStart).state, Freshness::kFresh);
  EXPECT_EQ(cache_.remove(QuestionMatch{wire("www.example."), LDNS_RR_TYPE_A, false}), 1u);
  EXPECT_EQ(get("www.example.", kStart).state, Freshness::kMiss);
}

TEST_F(CacheControlTest, FlushZoneTakesTheNameAndBelowButNotANameThatOnlyEndsTheSame) {
  put("example.", 60, kStart);
  put("www.example.", 60, kStart);
  put("a.b.example.", 60, kStart);
  put("notexample.", 60, kStart);  // the same bytes at its end, not at a label boundary
  put("example.org.", 60, kStart);
  EXPECT_EQ(cache_.remove(QuestionMatch{wire("example."), std::nullopt, true}), 3u);
  EXPECT_EQ(get("a.b.example.", kStart).state, Freshness::kMiss);
  EXPECT_EQ(get("notexample.", kStart).state, Freshness::kFresh);
  EXPECT_EQ(get("example.org.", kStart).state, Freshness::kFresh);
}

TEST_F(CacheControlTest, FlushOfTheRootZoneTakesEverything) {
  put("a.example.", 60, kStart);
  put("b.test.", 60, kStart);
  EXPECT_EQ(cache_.remove(QuestionMatch{std::string(1, '\0'), std::nullopt, true}), 2u);
  EXPECT_EQ(cache_.stats().entries, 0u);
}

// Slices of one slot: every erase's backward shift may move a later entry into the slot just
// looked at, or (at the table's end) round to its start; none may be missed.
TEST_F(CacheControlTest, FlushInTinySlicesMissesNothingInAFullTable) {
  for (int i = 0; i < 500; ++i) put("n" + std::to_string(i) + ".zone.", 60, kStart);
  put("keep.other.", 60, kStart);
  EXPECT_EQ(cache_.remove(QuestionMatch{wire("zone."), std::nullopt, true}, 1), 500u);
  EXPECT_EQ(cache_.stats().entries, 1u);
  for (int i = 0; i < 500; i += 37) {
    EXPECT_EQ(get("n" + std::to_string(i) + ".zone.", kStart).state, Freshness::kMiss) << i;
  }
}

TEST_F(CacheControlTest, FlushAllEmptiesEveryShardAndTheCacheFillsAgain) {
  for (int i = 0; i < 200; ++i) put("n" + std::to_string(i) + ".example.", 60, kStart);
  EXPECT_EQ(cache_.remove_all(), 200u);
  const ShardStats stats = cache_.stats();
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.flushed, 200u);
  EXPECT_EQ(get("n1.example.", kStart).state, Freshness::kMiss);
  put("n1.example.", 60, kStart);
  EXPECT_EQ(get("n1.example.", kStart).state, Freshness::kFresh);
  EXPECT_EQ(cache_.stats().entries, 1u);
}

TEST_F(CacheControlTest, AVisitInSlicesSeesEveryEntryOnceWithItsTtlAndState) {
  for (int i = 0; i < 100; ++i) put("n" + std::to_string(i) + ".example.", 60, kStart);
  const auto names = dumped(kStart);
  EXPECT_EQ(names.size(), 100u);
  EXPECT_EQ(std::set<std::string>(names.begin(), names.end()).size(), 100u);

  VisitCursor cursor;
  std::vector<EntryInfo> seen;
  std::vector<std::string> questions;
  while (cache_.visit(cursor, 1024, kStart + seconds(70), [&](const EntryInfo& e) {
    seen.push_back(e);
    questions.emplace_back(e.question);
  })) {
  }
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_EQ(seen[0].ttl_left_seconds, -10);
  EXPECT_TRUE(seen[0].stale_servable);  // serve_stale on, within max_stale
  EXPECT_EQ(seen[0].rcode, 0);
  EXPECT_GT(seen[0].bytes, 0u);
  EXPECT_EQ(seen[0].route_tag, 0);
}

TEST_F(CacheControlTest, AVisitLooksAtNoMoreSlotsPerCallThanItIsGiven) {
  for (int i = 0; i < 300; ++i) put("n" + std::to_string(i) + ".example.", 60, kStart);
  VisitCursor cursor;
  std::size_t calls = 0;
  std::size_t total = 0;
  bool more = true;
  while (more) {
    std::size_t in_call = 0;
    more = cache_.visit(cursor, 16, kStart, [&](const EntryInfo&) { ++in_call; });
    EXPECT_LE(in_call, 16u);  // one slice: the lock held for 16 slots at most
    total += in_call;
    ++calls;
  }
  EXPECT_EQ(total, 300u);
  EXPECT_GE(calls, 300u / 16);
  // No lock is left held: an insert and a lookup go through.
  put("after.example.", 60, kStart);
  EXPECT_EQ(get("after.example.", kStart).state, Freshness::kFresh);
}

}  // namespace
}  // namespace dp::cache
