// A small HTTP/1.1 server on its own thread and event loop (libevent's evhttp), for the
// metrics and health endpoints: GET and HEAD only, one handler for every path.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/c_ptr.h"
#include "common/socket_address.h"
#include "io/event_loop.h"

struct evhttp;
struct evhttp_request;

namespace dp::io {

void evhttp_free_fn(evhttp* http) noexcept;
using EvhttpPtr = CPtr<evhttp, evhttp_free_fn>;

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Called on the server's thread with the request path (no query string).
using HttpHandler = std::function<HttpResponse(std::string_view path)>;

// Owned by main(); its callbacks run on its own thread, never a worker's.
class HttpServer {
 public:
  // Binds `address` (port 0: the kernel picks; see address()). Throws std::runtime_error with
  // one line naming the address on failure.
  HttpServer(const SocketAddress& address, HttpHandler handler);
  ~HttpServer();  // stops the thread
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void start();
  void stop();
  const SocketAddress& address() const { return address_; }

 private:
  static void on_request(evhttp_request* request, void* self) noexcept;
  void handle(evhttp_request* request);

  HttpHandler handler_;
  EventLoop loop_;
  EvhttpPtr http_;  // after loop_: freed before its event base
  SocketAddress address_;
  std::thread thread_;
};

}  // namespace dp::io
