// A worker's UDP socket on one listen address: receives queries, sends replies, in batches
// (recvmmsg/sendmmsg) so a busy socket costs two system calls per batch, not two per query.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "common/socket_address.h"
#include "io/event_loop.h"

namespace dp::io {

// Owned by its worker; the handler runs on the worker's thread, once per datagram.
class UdpListener {
 public:
  using Handler = std::function<void(std::span<const std::uint8_t>, const SocketAddress& from)>;

  static constexpr std::size_t kBatch = 32;  // datagrams per recvmmsg and per sendmmsg

  // Takes ownership of fd (from socket_bind).
  UdpListener(EventLoop& loop, int fd, Handler handler);
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  // Best effort, as UDP is: a full socket buffer drops the reply (counted). Replies are queued
  // and leave in one sendmmsg: those made while a received batch is handled when the batch is
  // done, the others (answers from upstream) once the current event callback returns.
  void send(std::span<const std::uint8_t> message, const SocketAddress& to);
  std::uint64_t send_failures() const { return send_failures_; }
  // Drain on shutdown: no more datagrams are read; replies can still be sent.
  void stop_reading();

 private:
  static void on_readable(int fd, short what, void* self) noexcept;
  static void on_flush(int fd, short what, void* self) noexcept;
  void drain();
  void flush();

  // One queued reply.
  struct OutSlot {
    std::vector<std::uint8_t> bytes;
    SocketAddress to;
  };

  int fd_;
  Handler handler_;
  EventPtr event_;
  EventPtr flush_event_;  // made active when a reply is queued outside a received batch
  bool flush_pending_ = false;
  std::unique_ptr<std::uint8_t[]> in_bytes_;  // kBatch datagrams of the largest size
  std::array<SocketAddress, kBatch> in_from_;
  std::array<OutSlot, kBatch> out_;
  std::array<mmsghdr, kBatch> in_headers_{};
  std::array<iovec, kBatch> in_iov_{};
  std::array<mmsghdr, kBatch> out_headers_{};
  std::array<iovec, kBatch> out_iov_{};
  std::size_t out_count_ = 0;
  bool batching_ = false;  // inside drain(): replies are queued
  std::uint64_t send_failures_ = 0;
};

}  // namespace dp::io
