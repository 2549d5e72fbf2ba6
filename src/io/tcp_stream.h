// ByteStream over a non-blocking TCP socket, driven by a libevent bufferevent.
#pragma once

#include <vector>

#include "io/byte_stream.h"
#include "io/event_loop.h"

struct bufferevent;

namespace dp::io {

class TcpStream final : public ByteStream {
 public:
  explicit TcpStream(EventLoop& loop);
  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  void connect(const SocketAddress& to, Handler& handler) override;
  void write(std::span<const std::uint8_t> bytes) override;
  std::size_t write_pending() const override;
  void close() override;

 private:
  static void on_read(bufferevent* bev, void* self) noexcept;
  static void on_event(bufferevent* bev, short what, void* self) noexcept;
  void fail(StreamError error, const std::string& detail);

  EventLoop& loop_;
  bufferevent* bev_ = nullptr;
  Handler* handler_ = nullptr;
  bool connected_ = false;
  std::vector<std::uint8_t> read_buffer_;  // reused for every read
};

}  // namespace dp::io
