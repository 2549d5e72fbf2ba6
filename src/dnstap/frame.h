// dnstap frames: one DNS message with where and when it was seen, packed as the dnstap
// protobuf (https://dnstap.info) ready for a Frame Streams writer.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <span>
#include <string>

#include "common/c_ptr.h"
#include "common/socket_address.h"

namespace dp::dnstap {

// The four message types a forwarder writes (dnstap's Message.Type names them CQ, CR, FQ, FR).
enum class MessageType : std::uint8_t {
  kClientQuery,        // a client's query as we received it
  kClientResponse,     // our reply as we sent it: from the cache, upstream or answered here
  kForwarderQuery,     // the query we sent upstream
  kForwarderResponse,  // the upstream's answer as we received it
};

// A set of MessageType, one bit each.
using MessageMask = std::uint8_t;
constexpr MessageMask message_bit(MessageType type) {
  return static_cast<MessageMask>(1U << static_cast<unsigned>(type));
}
inline constexpr MessageMask kAllMessages = 0x0f;

enum class Protocol : std::uint8_t { kUdp, kTcp, kDot };

using WallTime = std::chrono::system_clock::time_point;  // dnstap times are Unix time

// One message to log. Borrowed views: valid for the call only.
struct Event {
  MessageType type = MessageType::kClientQuery;
  Protocol protocol = Protocol::kUdp;
  const SocketAddress* query_address = nullptr;     // the initiator; null: unset
  const SocketAddress* response_address = nullptr;  // the responder; null: unset
  WallTime query_time{};                            // epoch: unset
  WallTime response_time{};                         // epoch: unset
  std::span<const std::uint8_t> message;            // the query or the response, as on the wire
};

// Who writes the frames: the identity (default the host name) and version fields of each.
struct Source {
  std::string identity;
  std::string version;
};

// A packed frame in memory from malloc, so that libfstrm can free it on its own thread.
struct Frame {
  CPtr<std::uint8_t, std::free> bytes;
  std::size_t size = 0;
};

// Packs `event` as a dnstap.Dnstap message. Empty (null bytes) only when malloc failed.
[[nodiscard]] Frame frame_encode(const Event& event, const Source& source);

// "client-query", "client-response", "forwarder-query", "forwarder-response".
const char* message_type_name(MessageType type);

}  // namespace dp::dnstap
