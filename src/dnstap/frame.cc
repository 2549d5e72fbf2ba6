#include "dnstap/frame.h"

#include <cstring>

#include "dnstap/dnstap.pb-c.h"

namespace dp::dnstap {
namespace {

// protobuf-c's byte fields are not const; packing only reads them.
ProtobufCBinaryData bytes_of(const void* data, std::size_t size) {
  return ProtobufCBinaryData{size, static_cast<std::uint8_t*>(const_cast<void*>(data))};
}

Dnstap__Message__Type type_of(MessageType type) {
  switch (type) {
    case MessageType::kClientQuery:
      return DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
    case MessageType::kClientResponse:
      return DNSTAP__MESSAGE__TYPE__CLIENT_RESPONSE;
    case MessageType::kForwarderQuery:
      return DNSTAP__MESSAGE__TYPE__FORWARDER_QUERY;
    case MessageType::kForwarderResponse:
      return DNSTAP__MESSAGE__TYPE__FORWARDER_RESPONSE;
  }
  return DNSTAP__MESSAGE__TYPE__CLIENT_QUERY;
}

Dnstap__SocketProtocol protocol_of(Protocol protocol) {
  switch (protocol) {
    case Protocol::kUdp:
      return DNSTAP__SOCKET_PROTOCOL__UDP;
    case Protocol::kTcp:
      return DNSTAP__SOCKET_PROTOCOL__TCP;
    case Protocol::kDot:
      return DNSTAP__SOCKET_PROTOCOL__DOT;
  }
  return DNSTAP__SOCKET_PROTOCOL__UDP;
}

// The address bytes (4 or 16) and port of `address` into the given fields; the family into
// `family` (both ends of one message share it).
void address_set(const SocketAddress& address, protobuf_c_boolean& has_address,
                 ProtobufCBinaryData& bytes, protobuf_c_boolean& has_port, std::uint32_t& port,
                 Dnstap__Message& message) {
  if (address.family() == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address.sa());
    bytes = bytes_of(&in->sin_addr, sizeof(in->sin_addr));
    message.socket_family = DNSTAP__SOCKET_FAMILY__INET;
  } else if (address.family() == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(address.sa());
    bytes = bytes_of(&in6->sin6_addr, sizeof(in6->sin6_addr));
    message.socket_family = DNSTAP__SOCKET_FAMILY__INET6;
  } else {
    return;  // unset: nothing to say
  }
  message.has_socket_family = 1;
  has_address = 1;
  has_port = 1;
  port = address.port();
}

void time_set(WallTime time, protobuf_c_boolean& has_sec, std::uint64_t& sec,
              protobuf_c_boolean& has_nsec, std::uint32_t& nsec) {
  const auto since = time.time_since_epoch();
  if (since.count() <= 0) return;
  const auto whole = std::chrono::duration_cast<std::chrono::seconds>(since);
  has_sec = 1;
  sec = static_cast<std::uint64_t>(whole.count());
  has_nsec = 1;
  nsec = static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(since - whole).count());
}

bool is_query(MessageType type) {
  return type == MessageType::kClientQuery || type == MessageType::kForwarderQuery;
}

}  // namespace

const char* message_type_name(MessageType type) {
  switch (type) {
    case MessageType::kClientQuery:
      return "client-query";
    case MessageType::kClientResponse:
      return "client-response";
    case MessageType::kForwarderQuery:
      return "forwarder-query";
    case MessageType::kForwarderResponse:
      return "forwarder-response";
  }
  return "client-query";
}

Frame frame_encode(const Event& event, const Source& source) {
  // Everything on the stack, borrowing the event's bytes: the only allocation is the frame
  // itself, which libfstrm frees once written.
  Dnstap__Message message;
  dnstap__message__init(&message);
  message.type = type_of(event.type);
  message.has_socket_protocol = 1;
  message.socket_protocol = protocol_of(event.protocol);
  if (event.query_address != nullptr) {
    address_set(*event.query_address, message.has_query_address, message.query_address,
                message.has_query_port, message.query_port, message);
  }
  if (event.response_address != nullptr) {
    address_set(*event.response_address, message.has_response_address, message.response_address,
                message.has_response_port, message.response_port, message);
  }
  time_set(event.query_time, message.has_query_time_sec, message.query_time_sec,
           message.has_query_time_nsec, message.query_time_nsec);
  time_set(event.response_time, message.has_response_time_sec, message.response_time_sec,
           message.has_response_time_nsec, message.response_time_nsec);
  if (is_query(event.type)) {
    message.has_query_message = 1;
    message.query_message = bytes_of(event.message.data(), event.message.size());
  } else {
    message.has_response_message = 1;
    message.response_message = bytes_of(event.message.data(), event.message.size());
  }

  Dnstap__Dnstap frame;
  dnstap__dnstap__init(&frame);
  frame.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
  frame.message = &message;
  if (!source.identity.empty()) {
    frame.has_identity = 1;
    frame.identity = bytes_of(source.identity.data(), source.identity.size());
  }
  if (!source.version.empty()) {
    frame.has_version = 1;
    frame.version = bytes_of(source.version.data(), source.version.size());
  }

  Frame out;
  out.size = dnstap__dnstap__get_packed_size(&frame);
  // NOLINTNEXTLINE(cppcoreguidelines-no-malloc): libfstrm frees it with free()
  out.bytes.reset(static_cast<std::uint8_t*>(std::malloc(out.size)));
  if (out.bytes == nullptr) {
    out.size = 0;
    return out;
  }
  dnstap__dnstap__pack(&frame, out.bytes.get());
  return out;
}

}  // namespace dp::dnstap
