#include "upstream/server_slots.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "upstream/deadline_queue.h"

namespace dp::upstream {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

ServerSpec server(const char* ip, const char* auth_name = "dns.example") {
  ServerSpec out;
  out.address = *SocketAddress::from_ip(ip, 853);
  out.auth_name = auth_name;
  return out;
}

SelectionOptions selection_options() {
  SelectionOptions o;
  o.backoff_initial = milliseconds(500);
  o.backoff_max = milliseconds(1'500);
  return o;
}

std::vector<std::string> names(const ServerSlots& slots) {
  std::vector<std::string> out;
  for (const std::size_t u : slots.order()) out.push_back(slots[u].server.display());
  return out;
}

TEST(ServerSlotsTest, TheConfiguredServersTakeSlotsInOrder) {
  const ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  EXPECT_EQ(slots.size(), 2U);
  EXPECT_THAT(slots.order(), ElementsAre(0, 1));
  EXPECT_THAT(names(slots), ElementsAre("192.0.2.1@853#dns.example", "192.0.2.2@853#dns.example"));
  EXPECT_EQ(slots.open_connections(), 0U);
  EXPECT_THAT(slots.connections(), IsEmpty());
}

// A server that stays keeps its slot (queries in flight hold its index); a new one is appended
// and needs connections; a removed one keeps its slot, out of the order and of the selection.
TEST(ServerSlotsTest, AReloadKeepsStayingServersInTheirSlots) {
  ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  Selection selection(slots.size(), selection_options());
  slots[1].resume_data = {1, 2, 3};

  const auto fresh =
      slots.servers_update({server("192.0.2.3"), server("192.0.2.2")}, selection, 16);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_THAT(*fresh, ElementsAre(2));
  EXPECT_EQ(slots.size(), 3U);
  EXPECT_THAT(slots.order(), ElementsAre(2, 1));
  EXPECT_THAT(slots[1].resume_data, ElementsAre(1, 2, 3));  // the list alone drops nothing
  EXPECT_TRUE(selection.removed(0));
  EXPECT_FALSE(selection.removed(1));
  EXPECT_FALSE(selection.removed(2));
  EXPECT_EQ(selection.active(), 2U);
}

TEST(ServerSlotsTest, AServerBackInTheListGetsItsOldSlotBack) {
  ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  Selection selection(slots.size(), selection_options());
  ASSERT_TRUE(slots.servers_update({server("192.0.2.2")}, selection, 16).has_value());
  ASSERT_TRUE(selection.removed(0));

  const auto fresh =
      slots.servers_update({server("192.0.2.1"), server("192.0.2.2")}, selection, 16);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_THAT(*fresh, ElementsAre(0));  // its connections were closed: it needs new ones
  EXPECT_EQ(slots.size(), 2U);
  EXPECT_THAT(slots.order(), ElementsAre(0, 1));
  EXPECT_FALSE(selection.removed(0));
}

// The auth name is part of a server's identity: another name is another server.
TEST(ServerSlotsTest, ADifferentAuthNameIsADifferentServer) {
  ServerSlots slots({server("192.0.2.1", "a.example")});
  Selection selection(slots.size(), selection_options());
  const auto fresh = slots.servers_update({server("192.0.2.1", "b.example")}, selection, 16);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_THAT(*fresh, ElementsAre(1));
  EXPECT_TRUE(selection.removed(0));
}

TEST(ServerSlotsTest, MoreRemovedSlotsThanAllowedChangeNothing) {
  ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  Selection selection(slots.size(), selection_options());
  // Two new servers, two removed ones kept: 4 slots for a list of 2, one removed slot allowed.
  const auto fresh = slots.servers_update({server("192.0.2.3"), server("192.0.2.4")}, selection, 1);
  EXPECT_FALSE(fresh.has_value());
  EXPECT_EQ(slots.size(), 2U);
  EXPECT_THAT(slots.order(), ElementsAre(0, 1));
  EXPECT_EQ(selection.active(), 2U);
  // Two are allowed: it goes through.
  EXPECT_TRUE(slots.servers_update({server("192.0.2.3"), server("192.0.2.4")}, selection, 2));
  EXPECT_THAT(slots.order(), ElementsAre(2, 3));
}

TEST(ServerSlotsTest, NewTrustReachesTheMatchingSlotAndDropsEverySessionTicket) {
  ServerSlots slots({server("192.0.2.1", "a.example"), server("192.0.2.2", "b.example")});
  slots[0].resume_data = {1};
  slots[1].resume_data = {2};
  ServerSpec pinned = server("192.0.2.1", "a.example");
  pinned.pins.push_back(tls::SpkiPin{7});
  pinned.tls_min_version = TlsVersion::kTls13;
  ServerSpec other_name = server("192.0.2.2", "c.example");  // not slot 1's server
  other_name.tls_min_version = TlsVersion::kTls13;

  slots.trust_update({pinned, other_name});
  EXPECT_THAT(slots[0].server.pins, ElementsAre(tls::SpkiPin{7}));
  EXPECT_EQ(slots[0].server.tls_min_version, TlsVersion::kTls13);
  EXPECT_THAT(slots[1].server.pins, IsEmpty());
  EXPECT_EQ(slots[1].server.tls_min_version, TlsVersion::kTls12);
  EXPECT_THAT(slots[0].resume_data, IsEmpty());
  EXPECT_THAT(slots[1].resume_data, IsEmpty());
}

TEST(ServerSlotsTest, StatusShowsBackOffAndTheLastFailureInOrder) {
  ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  Selection selection(slots.size(), selection_options());
  const auto backoff = selection.backoff_start(1, t0);
  slots.failure_report(1, ConnectionFailure{UpstreamError::kTimeout, "no answer", true, {}},
                       backoff, t0);
  // A lost connection with queries on it is kept too; an idle one's close is not a failure.
  slots.failure_report(0, ConnectionFailure{UpstreamError::kClosed, "", true, {}}, std::nullopt,
                       t0);

  const auto status = slots.status(selection, Transport::kTls, t0 + milliseconds(100));
  ASSERT_EQ(status.size(), 2U);
  EXPECT_EQ(status[0].name, "192.0.2.1@853#dns.example");
  EXPECT_TRUE(status[0].usable);
  EXPECT_EQ(status[0].last_failure, "");
  EXPECT_FALSE(status[0].last_failure_ago.has_value());
  EXPECT_EQ(status[1].name, "192.0.2.2@853#dns.example");
  EXPECT_EQ(status[1].transport, Transport::kTls);
  EXPECT_FALSE(status[1].usable);
  EXPECT_EQ(status[1].backoff_left, backoff - milliseconds(100));
  EXPECT_EQ(status[1].last_failure, "timeout: no answer");
  EXPECT_EQ(status[1].last_failure_ago, milliseconds(100));

  slots.failure_report(0, ConnectionFailure{UpstreamError::kClosed, "reset", true, {42}},
                       std::nullopt, t0);
  EXPECT_EQ(slots.status(selection, Transport::kTls, t0)[0].last_failure, "closed: reset");
}

TEST(ServerSlotsTest, AStatusLeavesOutRemovedServers) {
  ServerSlots slots({server("192.0.2.1"), server("192.0.2.2")});
  Selection selection(slots.size(), selection_options());
  ASSERT_TRUE(slots.servers_update({server("192.0.2.2")}, selection, 16).has_value());
  const auto status = slots.status(selection, Transport::kUdp, t0);
  ASSERT_EQ(status.size(), 1U);
  EXPECT_EQ(status[0].name, "192.0.2.2@853#dns.example");
  EXPECT_EQ(status[0].transport, Transport::kUdp);
}

TEST(ServerSlotsTest, WithNoConnectionTheNextDeadlineIsTheProbe) {
  ServerSlots slots({server("192.0.2.1")});
  Selection selection(slots.size(), selection_options());
  EXPECT_EQ(slots.deadline_next(selection), TimePoint::max());  // healthy: nothing to probe
  const auto backoff = selection.backoff_start(0, t0);
  EXPECT_EQ(slots.deadline_next(selection), t0 + backoff);
}

TEST(DeadlineQueueTest, DueEntriesComeOffEarliestFirst) {
  DeadlineQueue queue;
  queue.push(t0 + milliseconds(30), 3);
  queue.push(t0 + milliseconds(10), 1);
  queue.push(t0 + milliseconds(20), 2);
  std::uint64_t id = 0;
  EXPECT_FALSE(queue.due_pop(t0, id));
  std::vector<std::uint64_t> due;
  while (queue.due_pop(t0 + milliseconds(20), id)) due.push_back(id);
  EXPECT_THAT(due, ElementsAre(1, 2));
  EXPECT_EQ(queue.next([](std::uint64_t) { return true; }), t0 + milliseconds(30));
}

TEST(DeadlineQueueTest, NextSkipsFinishedEntries) {
  DeadlineQueue queue;
  queue.push(t0 + milliseconds(10), 1);
  queue.push(t0 + milliseconds(20), 2);
  const auto live = [](std::uint64_t id) { return id != 1; };
  EXPECT_EQ(queue.next(live), t0 + milliseconds(20));
  EXPECT_EQ(queue.next([](std::uint64_t) { return false; }), TimePoint::max());
  std::uint64_t id = 0;
  EXPECT_FALSE(queue.due_pop(TimePoint::max(), id));  // the dead ones were dropped
}

}  // namespace
}  // namespace dp::upstream
