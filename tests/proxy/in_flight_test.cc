#include "proxy/in_flight.h"

#include <gtest/gtest.h>

#include <string>

namespace dp::proxy {
namespace {

// A query for `name` (any bytes: the table never parses them), long enough to live on the heap.
dns::Query query_for(const std::string& name, std::uint16_t id) {
  dns::Query query;
  query.id = id;
  query.question.qname_lower = name + std::string(40, 'x');
  query.question_wire = query.question.qname_lower + "abcd";
  return query;
}

const ClientRef kClient{Transport::kUdp, 0, *SocketAddress::parse("127.0.0.1:5300"), 0};

TEST(ProxyInFlightTableTest, StartFindWaitTake) {
  InFlightTable table;
  dns::Query query = query_for("a", 1);
  Flight& flight = table.start("key-a", query);
  EXPECT_EQ(table.find("key-a"), &flight);
  EXPECT_EQ(table.by_id(flight.id), &flight);
  EXPECT_EQ(table.find("key-b"), nullptr);
  EXPECT_EQ(flight.query, query);
  const std::uint64_t id = flight.id;
  const std::uint64_t seq = table.wait(flight, kClient, query);
  EXPECT_EQ(table.waiters(), 1u);
  ASSERT_EQ(flight.waiters.size(), 1u);
  EXPECT_EQ(flight.waiters[0].seq, seq);
  EXPECT_EQ(flight.waiters[0].query, query_for("a", 1));

  InFlightTable::Taken taken = table.take(id);
  ASSERT_FALSE(taken.empty());
  EXPECT_EQ(taken.mapped().key, "key-a");
  EXPECT_EQ(taken.mapped().waiters.size(), 1u);
  EXPECT_EQ(table.flights(), 0u);
  EXPECT_EQ(table.waiters(), 0u);
  EXPECT_EQ(table.find("key-a"), nullptr);  // no new waiter joins an answered flight
  EXPECT_EQ(table.by_id(id), nullptr);
  table.recycle(std::move(taken));
  EXPECT_TRUE(table.take(id).empty());  // once only
}

TEST(ProxyInFlightTableTest, RemoveWaiterLeavesTheOthers) {
  InFlightTable table;
  dns::Query query = query_for("a", 1);
  Flight& flight = table.start("key-a", query);
  const std::uint64_t first = table.wait(flight, kClient, query);
  query = query_for("a", 2);
  const std::uint64_t second = table.wait(flight, kClient, query);
  EXPECT_TRUE(table.remove_waiter(flight, first));
  EXPECT_FALSE(table.remove_waiter(flight, first));
  ASSERT_EQ(flight.waiters.size(), 1u);
  EXPECT_EQ(flight.waiters[0].seq, second);
  EXPECT_EQ(flight.waiters[0].query.id, 2);
  EXPECT_EQ(table.waiters(), 1u);
}

// What the miss path counts on: a recycled flight, its key and its waiters' queries come back
// with their room, so a steady stream of misses allocates nothing here.
TEST(ProxyInFlightTableTest, RecycledFlightsAndQueriesKeepTheirRoom) {
  InFlightTable table;
  dns::Query query = query_for("a", 1);
  Flight& flight = table.start(std::string(60, 'k'), query);
  const char* key_room = flight.key.data();
  const char* waiter_room = query.question_wire.data();
  table.wait(flight, kClient, query);
  EXPECT_EQ(flight.waiters[0].query.question_wire.data(), waiter_room);  // moved, not copied
  table.recycle(table.take(flight.id));

  dns::Query next = query_for("b", 2);
  Flight& again = table.start(std::string(60, 'j'), next);
  EXPECT_EQ(again.key.data(), key_room);
  EXPECT_EQ(again.key, std::string(60, 'j'));
  EXPECT_EQ(table.find(std::string(60, 'j')), &again);
  EXPECT_EQ(table.find(std::string(60, 'k')), nullptr);
  table.wait(again, kClient, next);
  // The caller's Query is now the first waiter's, buffers and all, ready for the next parse.
  EXPECT_EQ(next.question_wire.data(), waiter_room);
  EXPECT_EQ(again.waiters[0].query, query_for("b", 2));
}

TEST(ProxyInFlightTableTest, ManyFlightsAtOnceEachFoundByKey) {
  InFlightTable table;
  std::vector<std::uint64_t> ids;
  for (int round = 0; round < 3; ++round) {  // the later rounds run on recycled flights
    for (int i = 0; i < 100; ++i) {
      dns::Query query = query_for(std::to_string(i), static_cast<std::uint16_t>(i));
      Flight& flight = table.start("key-" + std::to_string(i), query);
      table.wait(flight, kClient, query);
      ids.push_back(flight.id);
    }
    for (int i = 0; i < 100; ++i) {
      const Flight* flight = table.find("key-" + std::to_string(i));
      ASSERT_NE(flight, nullptr);
      EXPECT_EQ(flight->query.id, i);
      EXPECT_EQ(flight->waiters.size(), 1u);
    }
    for (const std::uint64_t id : ids) table.recycle(table.take(id));
    ids.clear();
    EXPECT_EQ(table.flights(), 0u);
    EXPECT_EQ(table.waiters(), 0u);
  }
}

}  // namespace
}  // namespace dp::proxy
