#include "proxy/forwarder_tap.h"

#include <utility>

#include "common/check.h"

namespace dp::proxy {

void forwarder_log(dnstap::Tap& tap, dnstap::MessageType type, upstream::Transport transport,
                   std::chrono::system_clock::time_point sent_at,
                   std::span<const std::uint8_t> message) {
  if (!tap.wants(type)) return;
  dnstap::Event event;
  event.type = type;
  switch (transport) {
    case upstream::Transport::kTls:
      event.protocol = dnstap::Protocol::kDot;
      break;
    case upstream::Transport::kTcp:
      event.protocol = dnstap::Protocol::kTcp;
      break;
    case upstream::Transport::kUdp:
      event.protocol = dnstap::Protocol::kUdp;
      break;
  }
  event.query_time = sent_at;
  if (type == dnstap::MessageType::kForwarderResponse) {
    event.response_time = std::chrono::system_clock::now();
  }
  event.message = message;
  tap.log(event);
}

upstream::Upstream& FetchTap::through(upstream::Upstream& route, upstream::Transport transport) {
  if (tap_ == nullptr) return route;
  route_ = &route;
  transport_ = transport;
  return *this;
}

void FetchTap::resolve(std::span<const std::uint8_t> query, const dns::Question& question,
                       Callback done) {
  if (DP_BUG(route_ == nullptr || tap_ == nullptr)) return;
  const auto sent_at = std::chrono::system_clock::now();
  forwarder_log(*tap_, dnstap::MessageType::kForwarderQuery, transport_, sent_at, query);
  // The tap outlives the pools (the worker's order), so an answer never meets it gone.
  route_->resolve(query, question,
                  [tap = tap_, transport = transport_, sent_at,
                   done = std::move(done)](const upstream::UpstreamResult& result) {
                    if (result) {  // a failure (timeout, connection lost) has no message
                      forwarder_log(*tap, dnstap::MessageType::kForwarderResponse, transport,
                                    sent_at, *result);
                    }
                    done(result);
                  });
}

}  // namespace dp::proxy
