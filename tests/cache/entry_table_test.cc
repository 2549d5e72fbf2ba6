// EntryTable against std::unordered_map under seeded random inserts and erases, with hashes
// forced to collide so runs wrap around the array and backward-shift deletion is exercised.
#include "cache/entry_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <unordered_map>

#include "dns/stored_answer.h"
#include "dns/test_packets.h"

namespace dp::cache {
namespace {

using dns::testing::answer_build;
using dns::testing::Records;

const TimePoint kNow = TimePoint{} + std::chrono::hours(1);

dns::StoredAnswer one_answer() {
  Records r;
  r.answer.push_back("a.example. 60 IN A 192.0.2.1");
  auto s = dns::stored_answer_make(
      answer_build("a.example.", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, r), dns::TtlPolicy{});
  EXPECT_TRUE(s.has_value());
  return *s;
}

TEST(EntryTable, MatchesAReferenceMapUnderRandomInsertsAndErases) {
  const dns::StoredAnswer answer = one_answer();
  std::unordered_map<std::string, Entry*> reference;
  EntryTable table;
  std::mt19937 rng(7);
  // 24 distinct hash values for up to 600 keys: long runs of equal and neighbouring homes.
  const auto hash_of = [](const std::string& key) { return std::hash<std::string>{}(key) % 24; };
  for (int step = 0; step < 40000; ++step) {
    const std::string key = "k" + std::to_string(rng() % 600);
    const std::size_t hash = hash_of(key);
    auto it = reference.find(key);
    if (it == reference.end()) {
      Entry* entry = Entry::create(key, answer, kNow);
      table.insert(entry, hash);
      reference.emplace(key, entry);
    } else if (rng() % 2 == 0) {
      table.erase(it->second, hash);
      Entry::destroy(it->second);
      reference.erase(it);
    }
    ASSERT_EQ(table.size(), reference.size()) << "step " << step;
    if (step % 97 == 0) {
      for (const auto& [k, e] : reference) ASSERT_EQ(table.find(k, hash_of(k)), e) << k;
      ASSERT_EQ(table.find("absent", hash_of("absent")), nullptr);
    }
  }
  std::size_t visited = 0;
  table.for_each([&](Entry* entry) {
    ++visited;
    EXPECT_EQ(reference.at(std::string(entry->key())), entry);
  });
  EXPECT_EQ(visited, reference.size());
  for (auto& [k, e] : reference) Entry::destroy(e);
}

TEST(EntryTable, GrowsAndKeepsEveryEntry) {
  const dns::StoredAnswer answer = one_answer();
  EntryTable table;
  std::vector<Entry*> entries;
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "name" + std::to_string(i);
    entries.push_back(Entry::create(key, answer, kNow));
    table.insert(entries.back(), std::hash<std::string>{}(key));
  }
  EXPECT_EQ(table.size(), 5000u);
  EXPECT_GE(table.held_bytes(), 5000u * 16 * 4 / 3);  // at most 3/4 full
  for (int i = 0; i < 5000; ++i) {
    const std::string key = "name" + std::to_string(i);
    ASSERT_EQ(table.find(key, std::hash<std::string>{}(key)), entries[i]);
  }
  for (Entry* e : entries) Entry::destroy(e);
}

}  // namespace
}  // namespace dp::cache
