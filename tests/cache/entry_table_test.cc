// EntryTable against std::unordered_map under seeded random inserts and erases, with hashes
// forced to collide so runs wrap around the array and backward-shift deletion is exercised.
#include "cache/entry_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <unordered_map>

#include "cache/cache_key.h"
#include "dns/stored_answer.h"
#include "dns/test_packets.h"

namespace dp::cache {
namespace {

using dns::testing::answer_build;
using dns::testing::query_build;
using dns::testing::Records;

const TimePoint kNow = TimePoint{} + std::chrono::hours(1);

// An entry answering `label`.example. A, and its key.
struct Made {
  std::string key;
  Entry* entry = nullptr;
};

Made make(const std::string& label) {
  const std::string name = label + ".example.";
  Records r;
  r.answer.push_back(name + " 60 IN A 192.0.2.1");
  auto answer = dns::stored_answer_make(answer_build(name, LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR, r),
                                        dns::TtlPolicy{});
  EXPECT_TRUE(answer.has_value());
  Made made;
  cache_key_build(dns::testing::parsed(query_build(name, LDNS_RR_TYPE_A)), made.key);
  made.entry = Entry::create(made.key, *answer, kNow);
  EXPECT_NE(made.entry, nullptr);
  return made;
}

std::string key_of(const std::string& label) {
  std::string key;
  cache_key_build(dns::testing::parsed(query_build(label + ".example.", LDNS_RR_TYPE_A)), key);
  return key;
}

TEST(EntryTable, MatchesAReferenceMapUnderRandomInsertsAndErases) {
  std::unordered_map<std::string, Entry*> reference;  // by label
  EntryTable table;
  std::mt19937 rng(7);
  // 24 distinct hash values for up to 600 keys: long runs of equal and neighbouring homes.
  const auto hash_of = [](const std::string& key) { return std::hash<std::string>{}(key) % 24; };
  for (int step = 0; step < 40000; ++step) {
    const std::string label = "k" + std::to_string(rng() % 600);
    auto it = reference.find(label);
    if (it == reference.end()) {
      const Made made = make(label);
      ASSERT_TRUE(table.insert(made.entry, hash_of(made.key)));
      reference.emplace(label, made.entry);
    } else if (rng() % 2 == 0) {
      table.erase(it->second);
      Entry::destroy(it->second);
      reference.erase(it);
    }
    ASSERT_EQ(table.size(), reference.size()) << "step " << step;
    if (step % 97 == 0) {
      for (const auto& [label, e] : reference) {
        const std::string key = key_of(label);
        ASSERT_EQ(table.find(key, hash_of(key)), e) << label;
      }
      const std::string absent = key_of("absent");
      ASSERT_EQ(table.find(absent, hash_of(absent)), nullptr);
    }
  }
  std::size_t visited = 0;
  table.for_each([&](Entry* entry) {
    ++visited;
    const bool known = std::any_of(reference.begin(), reference.end(),
                                   [entry](const auto& item) { return item.second == entry; });
    EXPECT_TRUE(known);
  });
  EXPECT_EQ(visited, reference.size());
  for (auto& [k, e] : reference) Entry::destroy(e);
}

TEST(EntryTable, GrowsAndKeepsEveryEntry) {
  EntryTable table;
  std::vector<Made> made;
  for (int i = 0; i < 5000; ++i) {
    made.push_back(make("name" + std::to_string(i)));
    ASSERT_TRUE(table.insert(made.back().entry, std::hash<std::string>{}(made.back().key)));
  }
  EXPECT_EQ(table.size(), 5000u);
  EXPECT_GE(table.held_bytes(), 5000u * 8 * 4 / 3);  // 8-byte slots, at most 3/4 full
  for (const Made& m : made) ASSERT_EQ(table.find(m.key, std::hash<std::string>{}(m.key)), m.entry);
  // A key of another type under the same name is another key.
  std::string other = made[0].key;
  other[other.size() - 3] ^= 1;  // qtype's low byte
  EXPECT_EQ(table.find(other, std::hash<std::string>{}(other)), nullptr);
  for (const Made& m : made) Entry::destroy(m.entry);
}

}  // namespace
}  // namespace dp::cache
