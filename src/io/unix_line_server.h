// A line-based request/reply server on a Unix stream socket, on its own thread and event loop
// (as HttpServer is): the transport of the control channel. It bounds what a client may cost:
// the request line's length, the connections open at once, the time a connection may idle;
// and it streams a long reply as the client reads it, so no reply is held whole.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/c_ptr.h"
#include "io/event_loop.h"

struct bufferevent;

namespace dp::io {

void bufferevent_free_fn(bufferevent* bev) noexcept;  // tcp_client_connection.cc

// One reply in the making, owned by its connection. next() appends the next part of it to
// `out` and returns false once the reply is whole. Runs on the server's thread; the server
// calls it again once the client has read most of what was sent, so each call should add a
// bounded piece.
class LineReply {
 public:
  virtual ~LineReply() = default;
  virtual bool next(std::string& out) = 0;

  bool close_after = false;  // once sent: close the connection, read no further request
};

// Called on the server's thread with a request line (without its "\n" or "\r\n").
using LineHandler = std::function<std::unique_ptr<LineReply>(std::string_view line)>;

struct UnixLineServerOptions {
  std::string path;
  uid_t owner = static_cast<uid_t>(-1);  // the socket file's owner; -1: the process's user
  gid_t group = static_cast<gid_t>(-1);
  std::size_t max_line_bytes = 1024;               // a longer request: oversized_reply, then closed
  std::size_t max_connections = 4;                 // beyond: busy_reply, then closed
  std::chrono::milliseconds idle_timeout{30'000};  // no request or no reading for this long
  std::string oversized_reply = "error request too long\n";
  std::string busy_reply = "error too many connections\n";
};

// Owned by main(); its callbacks and the handler run on its own thread, never a worker's.
class UnixLineServer {
 public:
  // Creates the socket file (mode 0600, chowned to options.owner/group) and listens. A file
  // left by a process that is gone (nothing accepts on it) is replaced. Throws
  // std::runtime_error with one line when the directory does not exist, the path is too long
  // or not a socket, another process listens there, or a system call fails.
  UnixLineServer(UnixLineServerOptions options, LineHandler handler);
  ~UnixLineServer();  // stops the thread and removes the socket file
  UnixLineServer(const UnixLineServer&) = delete;
  UnixLineServer& operator=(const UnixLineServer&) = delete;

  void start();
  void stop();
  const std::string& path() const { return options_.path; }

 private:
  struct Connection;
  static void on_accept(int fd, short what, void* self) noexcept;
  static void on_read(bufferevent* bev, void* self) noexcept;
  static void on_write(bufferevent* bev, void* self) noexcept;
  static void on_event(bufferevent* bev, short what, void* self) noexcept;
  void accept_all();
  void input_take(Connection& conn);  // a whole line in the input: handle it
  void reply_pump(Connection& conn);  // more of the reply while the output is short
  void close(Connection& conn);

  UnixLineServerOptions options_;
  LineHandler handler_;
  EventLoop loop_;
  int fd_ = -1;
  dev_t device_ = 0;  // the socket file we made, so that the destructor removes only it
  ino_t inode_ = 0;
  EventPtr accept_event_;
  std::list<std::unique_ptr<Connection>> connections_;  // the loop's thread only
  std::thread thread_;
};

}  // namespace dp::io
