// dnstap's CLIENT_QUERY and CLIENT_RESPONSE messages for one worker's clients: the query's
// arrival time carried to its response, and each UDP listener's own address as the responder.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/socket_address.h"
#include "dnstap/tap.h"
#include "dnstap/writer.h"
#include "proxy/query_stats.h"
#include "proxy/reply_sink.h"

namespace dp::proxy {

// The dnstap writer the workers share (owned by the Server, outliving them) and what each
// worker's tap writes; writer null: dnstap off.
struct DnstapOutput {
  dnstap::Writer* writer = nullptr;
  dnstap::MessageMask types = dnstap::kAllMessages;
  dnstap::Source source;
};

// Owned by one worker, used on its thread only; off (no tap) costs one null check per message.
class ClientTap {
 public:
  // `stats` counts what is queued and dropped, and outlives the tap.
  ClientTap(std::size_t worker, const DnstapOutput& output, QueryStats& stats);

  bool on() const { return tap_ != nullptr; }
  // For the resolver's FORWARDER_* messages; null: dnstap off.
  dnstap::Tap* tap() const { return tap_.get(); }
  // The next UDP listener's socket (listeners are added in their index order).
  void listener_add(int udp_fd);

  // Call only when on(). Logs `message` as CLIENT_QUERY and returns `client` stamped with its
  // arrival time, for the reply's CLIENT_RESPONSE.
  ClientRef query_log(std::span<const std::uint8_t> message, const ClientRef& client);
  // Call only when on(). Logs `reply` as CLIENT_RESPONSE; an empty reply (a dropped query) is
  // no response and is not logged.
  void reply_log(const ClientRef& client, std::span<const std::uint8_t> reply);

 private:
  void client_log(dnstap::MessageType type, const ClientRef& client,
                  std::span<const std::uint8_t> message);

  std::unique_ptr<dnstap::Tap> tap_;      // null: --dnstap off
  std::vector<SocketAddress> udp_local_;  // each UDP listener's own address, by index
};

}  // namespace dp::proxy
