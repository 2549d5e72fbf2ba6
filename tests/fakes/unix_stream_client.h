// A blocking client of a Unix stream socket for tests (the control channel, the line server):
// sends raw bytes and reads replies with a timeout, a bound on a failing test, never a wait for
// success.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string>

namespace dp::testing {

class UnixStreamClient {
 public:
  explicit UnixStreamClient(const std::string& path)
      : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
    const timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  }
  ~UnixStreamClient() { ::close(fd_); }
  UnixStreamClient(const UnixStreamClient&) = delete;
  UnixStreamClient& operator=(const UnixStreamClient&) = delete;

  bool connected() const { return connected_; }
  void send(const std::string& text) {
    ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  // Reads until what came ends with `until` (or EOF, or the timeout).
  std::string read_until(const std::string& until) {
    std::string text;
    char buffer[65536];
    while (!text.ends_with(until)) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      text.append(buffer, static_cast<std::size_t>(n));
    }
    return text;
  }
  // The control protocol's reply: up to and including the first line that starts with "ok" or
  // "error" (byte by byte, so that nothing of a next reply is taken).
  std::string read_reply() {
    std::string text;
    std::string line;
    char c = 0;
    while (::recv(fd_, &c, 1, 0) == 1) {
      text += c;
      line += c;
      if (c != '\n') continue;
      if (line.starts_with("ok") || line.starts_with("error")) break;
      line.clear();
    }
    return text;
  }
  // True when the server closed the connection (a read returns 0).
  bool closed_by_server() {
    char c = 0;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  int fd_;
  bool connected_ = false;
};

}  // namespace dp::testing
