// FakeDatagramNetwork: io::DatagramSocket fakes whose far end is a scripted UDP DNS server
// (zone_answer() replies, optionally rewritten or held), with every datagram queued until
// pump(). Upstream UDP tests run without sockets, threads or sleeps.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/socket_address.h"
#include "fakes/synthetic_zone.h"
#include "io/datagram_socket.h"

namespace dp::testing {

// Everything the test may inspect about one socket; outlives the socket.
struct FakeDatagramState {
  SocketAddress remote;
  std::uint16_t local_port = 0;
  io::DatagramSocket* socket = nullptr;  // null once destroyed
  io::DatagramSocket::Handler* handler = nullptr;
  std::vector<std::vector<std::uint8_t>> sent;  // every datagram the client sent
  bool closed = false;
  bool destroyed = false;
};

// Owned by the test; outlives every socket it made. Callbacks run inside pump().
class FakeDatagramNetwork {
 public:
  using Bytes = std::vector<std::uint8_t>;
  // What a server does with one query: the datagrams it sends back (none: silent).
  using Responder = std::function<std::vector<Bytes>(const Bytes& query)>;

  // A server at `address` answering each query from the synthetic zone.
  void serve(const SocketAddress& address) {
    respond(address, [](const Bytes& query) { return std::vector<Bytes>{zone_answer(query)}; });
  }
  void respond(const SocketAddress& address, Responder responder) {
    for (auto& [a, r] : servers_) {
      if (a == address) {
        r = std::move(responder);
        return;
      }
    }
    servers_.emplace_back(address, std::move(responder));
  }
  // Nothing comes back from `address` (no route: a black hole).
  void silence(const SocketAddress& address) {
    respond(address, [](const Bytes&) { return std::vector<Bytes>{}; });
  }
  // The next sockets cannot be opened (EMFILE and the like).
  void set_open_fails(bool on) { open_fails_ = on; }

  std::function<Result<std::unique_ptr<io::DatagramSocket>, std::string>(
      const SocketAddress&, io::DatagramSocket::Handler&)>
  factory() {
    return [this](const SocketAddress& to, io::DatagramSocket::Handler& handler) {
      return open(to, handler);
    };
  }

  // Queues a datagram to the client socket of `s` (as if from its server).
  void deliver(const std::shared_ptr<FakeDatagramState>& s, Bytes datagram) {
    events_.push_back([s, d = std::move(datagram)] {
      if (!s->closed) s->handler->on_datagram(*s->socket, d);
    });
  }
  // Queues an ICMP error on the socket of `s`.
  void icmp_error(const std::shared_ptr<FakeDatagramState>& s, std::string detail) {
    events_.push_back([s, d = std::move(detail)] {
      if (!s->closed) s->handler->on_datagram_error(*s->socket, d);
    });
  }

  // Delivers queued datagrams, and those they cause, until quiet. Returns the count.
  std::size_t pump() {
    std::size_t n = 0;
    while (!events_.empty()) {
      auto event = std::move(events_.front());
      events_.pop_front();
      event();
      if (++n > 1'000'000) throw std::logic_error("FakeDatagramNetwork: never quiet");
    }
    return n;
  }

  const std::vector<std::shared_ptr<FakeDatagramState>>& sockets() const { return sockets_; }
  std::size_t open_sockets() const {
    std::size_t n = 0;
    for (const auto& s : sockets_) n += s->closed ? 0 : 1;
    return n;
  }

  // The socket's side.
  void on_send(const std::shared_ptr<FakeDatagramState>& s, const Bytes& datagram) {
    s->sent.push_back(datagram);
    for (auto& [a, r] : servers_) {
      if (a == s->remote) {
        for (Bytes& reply : r(datagram)) deliver(s, std::move(reply));
        return;
      }
    }
  }

 private:
  Result<std::unique_ptr<io::DatagramSocket>, std::string> open(
      const SocketAddress& to, io::DatagramSocket::Handler& handler);

  std::vector<std::pair<SocketAddress, Responder>> servers_;
  std::vector<std::shared_ptr<FakeDatagramState>> sockets_;
  std::deque<std::function<void()>> events_;
  bool open_fails_ = false;
  std::uint16_t next_port_ = 40000;
};

class FakeDatagramSocket final : public io::DatagramSocket {
 public:
  FakeDatagramSocket(FakeDatagramNetwork& network, std::shared_ptr<FakeDatagramState> state)
      : network_(network), state_(std::move(state)) {
    state_->socket = this;
  }
  ~FakeDatagramSocket() override {
    state_->closed = true;
    state_->destroyed = true;
    state_->socket = nullptr;
  }
  FakeDatagramSocket(const FakeDatagramSocket&) = delete;
  FakeDatagramSocket& operator=(const FakeDatagramSocket&) = delete;

  Result<void, std::string> send(std::span<const std::uint8_t> bytes) override {
    if (state_->closed) throw std::logic_error("FakeDatagramSocket: send after close");
    network_.on_send(state_, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
    return {};
  }
  SocketAddress local_address() const override {
    auto a = *SocketAddress::parse("127.0.0.1:0");
    a.set_port(state_->local_port);
    return a;
  }
  void close() override { state_->closed = true; }

 private:
  FakeDatagramNetwork& network_;
  std::shared_ptr<FakeDatagramState> state_;
};

inline Result<std::unique_ptr<io::DatagramSocket>, std::string> FakeDatagramNetwork::open(
    const SocketAddress& to, io::DatagramSocket::Handler& handler) {
  if (open_fails_) return unexpected(std::string("socket: Too many open files"));
  auto state = std::make_shared<FakeDatagramState>();
  state->remote = to;
  state->handler = &handler;
  state->local_port = next_port_++;
  sockets_.push_back(state);
  return std::unique_ptr<io::DatagramSocket>(std::make_unique<FakeDatagramSocket>(*this, state));
}

}  // namespace dp::testing
