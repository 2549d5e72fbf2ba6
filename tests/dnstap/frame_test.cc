#include "dnstap/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "dnstap/dnstap.pb-c.h"

namespace dp::dnstap {
namespace {

using std::chrono::nanoseconds;

// The frame decoded again with protobuf-c; null if it does not decode.
struct Unpacked {
  Dnstap__Dnstap* frame = nullptr;
  explicit Unpacked(const Frame& packed)
      : frame(dnstap__dnstap__unpack(nullptr, packed.size, packed.bytes.get())) {}
  ~Unpacked() {
    if (frame != nullptr) dnstap__dnstap__free_unpacked(frame, nullptr);
  }
  Unpacked(const Unpacked&) = delete;
  Unpacked& operator=(const Unpacked&) = delete;
};

std::string text_of(const ProtobufCBinaryData& data) {
  return std::string(reinterpret_cast<const char*>(data.data), data.len);
}

std::vector<std::uint8_t> bytes_of(const ProtobufCBinaryData& data) {
  return std::vector<std::uint8_t>(data.data, data.data + data.len);
}

const Source kSource{"resolver-1", "dotproxy 0.1.0"};

TEST(DnstapFrameTest, ClientResponseRoundTripsWithAddressesTimesAndBytes) {
  const auto client = *SocketAddress::parse("192.0.2.7:40000");
  const auto listener = *SocketAddress::parse("127.0.0.1:53");
  const std::vector<std::uint8_t> reply = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0};
  Event event;
  event.type = MessageType::kClientResponse;
  event.protocol = Protocol::kUdp;
  event.query_address = &client;
  event.response_address = &listener;
  event.query_time = WallTime(nanoseconds(1'700'000'000'123'456'789));
  event.response_time = WallTime(nanoseconds(1'700'000'001'000'000'005));
  event.message = reply;

  const Frame packed = frame_encode(event, kSource);
  ASSERT_NE(packed.bytes, nullptr);
  const Unpacked out(packed);
  ASSERT_NE(out.frame, nullptr);
  EXPECT_EQ(out.frame->type, DNSTAP__DNSTAP__TYPE__MESSAGE);
  ASSERT_TRUE(out.frame->has_identity);
  EXPECT_EQ(text_of(out.frame->identity), "resolver-1");
  ASSERT_TRUE(out.frame->has_version);
  EXPECT_EQ(text_of(out.frame->version), "dotproxy 0.1.0");
  const Dnstap__Message* m = out.frame->message;
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type, DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE);
  ASSERT_TRUE(m->has_socket_family);
  EXPECT_EQ(m->socket_family, DNSTAP__SOCKET_FAMILY__INET);
  ASSERT_TRUE(m->has_socket_protocol);
  EXPECT_EQ(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__UDP);
  ASSERT_TRUE(m->has_query_address);
  EXPECT_EQ(bytes_of(m->query_address), (std::vector<std::uint8_t>{192, 0, 2, 7}));
  EXPECT_EQ(m->query_port, 40000u);
  ASSERT_TRUE(m->has_response_address);
  EXPECT_EQ(bytes_of(m->response_address), (std::vector<std::uint8_t>{127, 0, 0, 1}));
  EXPECT_EQ(m->response_port, 53u);
  EXPECT_EQ(m->query_time_sec, 1'700'000'000u);
  EXPECT_EQ(m->query_time_nsec, 123'456'789u);
  EXPECT_EQ(m->response_time_sec, 1'700'000'001u);
  EXPECT_EQ(m->response_time_nsec, 5u);
  EXPECT_FALSE(m->has_query_message);  // a response carries the response only
  ASSERT_TRUE(m->has_response_message);
  EXPECT_EQ(bytes_of(m->response_message), reply);
}

TEST(DnstapFrameTest, ClientQueryOverTcpFromIpv6) {
  const auto client = *SocketAddress::parse("[2001:db8::5]:5353");
  const std::vector<std::uint8_t> query = {0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  Event event;
  event.type = MessageType::kClientQuery;
  event.protocol = Protocol::kTcp;
  event.query_address = &client;
  event.query_time = WallTime(nanoseconds(2'000'000'000));
  event.message = query;

  const Frame packed = frame_encode(event, Source{});
  const Unpacked out(packed);
  ASSERT_NE(out.frame, nullptr);
  EXPECT_FALSE(out.frame->has_identity);  // empty: left out
  const Dnstap__Message* m = out.frame->message;
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type, DNSTAP__MESSAGE__TYPE__CLIENT_QUERY);
  EXPECT_EQ(m->socket_family, DNSTAP__SOCKET_FAMILY__INET6);
  EXPECT_EQ(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__TCP);
  ASSERT_EQ(m->query_address.len, 16u);
  EXPECT_EQ(m->query_address.data[0], 0x20);
  EXPECT_EQ(m->query_address.data[15], 0x05);
  EXPECT_EQ(m->query_port, 5353u);
  EXPECT_FALSE(m->has_response_address);
  EXPECT_FALSE(m->has_response_time_sec);  // unset: the epoch
  EXPECT_EQ(m->query_time_sec, 2u);
  EXPECT_EQ(m->query_time_nsec, 0u);
  ASSERT_TRUE(m->has_query_message);
  EXPECT_EQ(bytes_of(m->query_message), query);
  EXPECT_FALSE(m->has_response_message);
}

TEST(DnstapFrameTest, ForwarderMessagesOverDotCarryNoAddresses) {
  const std::vector<std::uint8_t> answer(300, 0x5a);
  Event event;
  event.type = MessageType::kForwarderResponse;
  event.protocol = Protocol::kDot;
  event.query_time = WallTime(nanoseconds(5'000'000'001));
  event.response_time = WallTime(nanoseconds(5'000'000'900));
  event.message = answer;

  const Unpacked out(frame_encode(event, kSource));
  ASSERT_NE(out.frame, nullptr);
  const Dnstap__Message* m = out.frame->message;
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->type, DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE);
  EXPECT_EQ(m->socket_protocol, DNSTAP__SOCKET_PROTOCOL__DOT);
  EXPECT_FALSE(m->has_socket_family);
  EXPECT_FALSE(m->has_query_address);
  EXPECT_FALSE(m->has_response_address);
  EXPECT_EQ(m->query_time_nsec, 1u);
  EXPECT_EQ(m->response_time_nsec, 900u);
  EXPECT_EQ(bytes_of(m->response_message), answer);

  event.type = MessageType::kForwarderQuery;
  const Unpacked query(frame_encode(event, kSource));
  ASSERT_NE(query.frame, nullptr);
  EXPECT_EQ(query.frame->message->type, DNSTAP__MESSAGE__TYPE__FORWARDER_QUERY);
  EXPECT_TRUE(query.frame->message->has_query_message);
  EXPECT_FALSE(query.frame->message->has_response_message);
}

TEST(DnstapFrameTest, MessageTypeNamesAndBits) {
  EXPECT_STREQ(message_type_name(MessageType::kClientQuery), "client-query");
  EXPECT_STREQ(message_type_name(MessageType::kForwarderResponse), "forwarder-response");
  MessageMask all = 0;
  for (const auto type : {MessageType::kClientQuery, MessageType::kClientResponse,
                          MessageType::kForwarderQuery, MessageType::kForwarderResponse}) {
    EXPECT_EQ(all & message_bit(type), 0) << message_type_name(type);
    all |= message_bit(type);
  }
  EXPECT_EQ(all, kAllMessages);
}

}  // namespace
}  // namespace dp::dnstap
