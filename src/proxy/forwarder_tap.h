// dnstap's FORWARDER_QUERY and FORWARDER_RESPONSE: for the misses the resolver forwards and for
// the validator's DS and DNSKEY fetches (FetchTap), one message format.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnstap/tap.h"
#include "upstream/transport.h"
#include "upstream/upstream.h"

namespace dp::proxy {

// One forwarder message; `sent_at` is when its query left (both messages carry it). The pool
// picks the server and the ID after this point (and may hedge or retry): the messages say which
// exchange, not which server; the query's ID is not the one sent.
void forwarder_log(dnstap::Tap& tap, dnstap::MessageType type, upstream::Transport transport,
                   std::chrono::system_clock::time_point sent_at,
                   std::span<const std::uint8_t> message);

// The validator's fetches seen by dnstap: the worker hands the validator this stand-in, set
// just before each fetch to the route's Upstream it stands for. Off (no tap): never used.
class FetchTap final : public upstream::Upstream {
 public:
  // `tap` outlives this; null: dnstap off.
  explicit FetchTap(dnstap::Tap* tap) : tap_(tap) {}

  // The Upstream a fetch is sent to: `route` itself when dnstap is off, else this, in front of
  // it, until the next call.
  upstream::Upstream& through(upstream::Upstream& route, upstream::Transport transport);

  void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
               Callback done) override;

 private:
  dnstap::Tap* tap_;
  upstream::Upstream* route_ = nullptr;
  upstream::Transport transport_ = upstream::Transport::kTls;
};

}  // namespace dp::proxy
