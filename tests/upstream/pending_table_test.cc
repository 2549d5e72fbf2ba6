#include "upstream/pending_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

namespace dp::upstream {
namespace {

// IDs that differ only in their high bits: with the ID itself as the hash they would all
// share one cell.
std::vector<std::uint16_t> high_bit_ids(std::size_t n) {
  std::vector<std::uint16_t> ids;
  for (std::size_t i = 0; i < n; ++i) ids.push_back(static_cast<std::uint16_t>(i << 9));
  return ids;
}

TEST(UpstreamPendingTableTest, InsertFindEraseOne) {
  PendingTable table(4);
  EXPECT_TRUE(table.empty());
  EXPECT_FALSE(table.contains(7));
  EXPECT_EQ(table.find(7), nullptr);
  PendingTable::Entry& entry = table.insert(7);
  entry.request_id = 42;
  entry.question.qname_lower =
      "\x01"
      "a\x04test";
  EXPECT_TRUE(table.contains(7));
  ASSERT_NE(table.find(7), nullptr);
  EXPECT_EQ(table.find(7)->request_id, 42U);
  EXPECT_EQ(table.size(), 1U);
  EXPECT_TRUE(table.erase(7));
  EXPECT_FALSE(table.contains(7));
  EXPECT_FALSE(table.erase(7));  // twice: nothing there
  EXPECT_TRUE(table.empty());
}

TEST(UpstreamPendingTableTest, BoundedByItsCapacity) {
  PendingTable table(3);
  EXPECT_EQ(table.capacity(), 3U);
  table.insert(1);
  table.insert(2);
  EXPECT_FALSE(table.full());
  table.insert(3);
  EXPECT_TRUE(table.full());
  table.erase(2);
  EXPECT_FALSE(table.full());
  EXPECT_EQ(PendingTable(100'000).capacity(), 65'535U);  // no more than there are IDs
  EXPECT_EQ(PendingTable(0).capacity(), 1U);
}

TEST(UpstreamPendingTableTest, CollidingIdsAllStayFindableThroughErasures) {
  // Whatever the hash, every one must be found, before and after its neighbours in a probe
  // chain are erased (backward shift must not lose any).
  const auto ids = high_bit_ids(64);
  PendingTable table(64);
  for (std::size_t i = 0; i < ids.size(); ++i) table.insert(ids[i]).request_id = i;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_NE(table.find(ids[i]), nullptr) << i;
    EXPECT_EQ(table.find(ids[i])->request_id, i);
  }
  for (std::size_t i = 0; i < ids.size(); i += 2) EXPECT_TRUE(table.erase(ids[i]));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(table.contains(ids[i]), i % 2 == 1) << i;
    if (i % 2 == 1) {
      EXPECT_EQ(table.find(ids[i])->request_id, i);
    }
  }
}

TEST(UpstreamPendingTableTest, SlotsAreReusedWithTheirRoom) {
  PendingTable table(2);
  PendingTable::Entry& first = table.insert(10);
  first.question.qname_lower.assign(100, 'x');
  const char* room = first.question.qname_lower.data();
  table.erase(10);
  PendingTable::Entry& again = table.insert(11);  // the freed slot, buffer and all
  EXPECT_EQ(again.question.qname_lower.data(), room);
  EXPECT_GE(again.question.qname_lower.capacity(), 100U);
}

TEST(UpstreamPendingTableTest, ClearEmptiesAndForEachSeesEveryEntry) {
  PendingTable table(8);
  for (std::uint16_t id : {5, 6, 7}) table.insert(id).request_id = id * 10U;
  std::set<std::uint64_t> seen;
  table.for_each([&](const PendingTable::Entry& e) { seen.insert(e.request_id); });
  EXPECT_EQ(seen, (std::set<std::uint64_t>{50, 60, 70}));
  table.clear();
  EXPECT_TRUE(table.empty());
  for (std::uint16_t id : {5, 6, 7}) EXPECT_FALSE(table.contains(id));
  for (std::uint16_t id = 0; id < 8; ++id) table.insert(id);  // all slots usable again
  EXPECT_TRUE(table.full());
}

TEST(UpstreamPendingTableTest, MatchesAMapUnderRandomChurn) {
  std::mt19937 rng(7);  // seeded: the same run every time
  PendingTable table(256);
  std::map<std::uint16_t, std::uint64_t> model;
  for (int step = 0; step < 200'000; ++step) {
    const auto id = static_cast<std::uint16_t>(rng() % 1024);  // dense: many collisions
    const bool present = model.count(id) != 0;
    ASSERT_EQ(table.contains(id), present) << step;
    if (present && rng() % 2 == 0) {
      ASSERT_TRUE(table.erase(id));
      model.erase(id);
    } else if (!present && !table.full()) {
      table.insert(id).request_id = static_cast<std::uint64_t>(step);
      model[id] = static_cast<std::uint64_t>(step);
    } else if (present) {
      ASSERT_EQ(table.find(id)->request_id, model[id]) << step;
    }
    ASSERT_EQ(table.size(), model.size());
  }
}

}  // namespace
}  // namespace dp::upstream
