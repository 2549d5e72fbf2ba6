#include "proxy/client_tap.h"

#include <chrono>

#include "io/socket.h"

namespace dp::proxy {

ClientTap::ClientTap(std::size_t worker, const DnstapOutput& output, QueryStats& stats) {
  if (output.writer == nullptr) return;
  tap_ = std::make_unique<dnstap::Tap>(*output.writer, worker, output.types, output.source,
                                       stats.dnstap_queued, stats.dnstap_dropped);
}

void ClientTap::listener_add(int udp_fd) {
  if (on()) udp_local_.push_back(io::socket_local_address(udp_fd));
}

ClientRef ClientTap::query_log(std::span<const std::uint8_t> message, const ClientRef& client) {
  ClientRef stamped = client;  // its reply's CLIENT_RESPONSE carries the query's time
  stamped.received_at = std::chrono::system_clock::now();
  client_log(dnstap::MessageType::kClientQuery, stamped, message);
  return stamped;
}

void ClientTap::reply_log(const ClientRef& client, std::span<const std::uint8_t> reply) {
  if (!reply.empty()) client_log(dnstap::MessageType::kClientResponse, client, reply);
}

void ClientTap::client_log(dnstap::MessageType type, const ClientRef& client,
                           std::span<const std::uint8_t> message) {
  if (!tap_->wants(type)) return;
  dnstap::Event event;
  event.type = type;
  // A DoT client's connection is a TCP one here: the handler does not tell them apart.
  event.protocol =
      client.transport == Transport::kUdp ? dnstap::Protocol::kUdp : dnstap::Protocol::kTcp;
  event.query_address = &client.peer;
  if (client.transport == Transport::kUdp && client.listener < udp_local_.size()) {
    event.response_address = &udp_local_[client.listener];
  }
  event.query_time = client.received_at;
  if (type == dnstap::MessageType::kClientResponse) {
    event.response_time = std::chrono::system_clock::now();
  }
  event.message = message;
  tap_->log(event);
}

}  // namespace dp::proxy
