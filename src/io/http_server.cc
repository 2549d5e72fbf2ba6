#include "io/http_server.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <stdexcept>

#include "io/socket.h"

namespace dp::io {
namespace {

constexpr int kTimeoutSeconds = 10;             // a scraper that stalls is dropped
constexpr std::size_t kMaxHeadersBytes = 8192;  // GET requests only: no body expected
constexpr std::size_t kMaxBodyBytes = 1024;

void evbuffer_free_fn(evbuffer* buffer) noexcept { evbuffer_free(buffer); }

}  // namespace

void evhttp_free_fn(evhttp* http) noexcept { evhttp_free(http); }

HttpServer::HttpServer(const SocketAddress& address, HttpHandler handler)
    : handler_(std::move(handler)), http_(evhttp_new(loop_.base())) {
  if (!http_) throw std::runtime_error("libevent: cannot create an HTTP server");
  evhttp_set_timeout(http_.get(), kTimeoutSeconds);
  evhttp_set_max_headers_size(http_.get(), kMaxHeadersBytes);
  evhttp_set_max_body_size(http_.get(), kMaxBodyBytes);
  evhttp_set_allowed_methods(http_.get(), EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
  evhttp_set_gencb(http_.get(), &HttpServer::on_request, this);
  evhttp_bound_socket* bound =
      evhttp_bind_socket_with_handle(http_.get(), address.ip_string().c_str(), address.port());
  if (bound == nullptr) {
    throw std::runtime_error("metrics: cannot listen on " + address.to_string() +
                             " (address in use, or not an address of this host)");
  }
  address_ = socket_local_address(evhttp_bound_socket_get_fd(bound));
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void HttpServer::stop() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::on_request(evhttp_request* request, void* self) noexcept {
  static_cast<HttpServer*>(self)->handle(request);
}

void HttpServer::handle(evhttp_request* request) {
  const evhttp_uri* uri = evhttp_request_get_evhttp_uri(request);
  const char* path = uri != nullptr ? evhttp_uri_get_path(uri) : nullptr;
  HttpResponse response;
  try {
    response = handler_(path != nullptr ? path : "/");
  } catch (const std::exception& e) {
    response = HttpResponse{500, "text/plain; charset=utf-8", std::string(e.what()) + "\n"};
  }
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", response.content_type.c_str());
  evhttp_add_header(headers, "Cache-Control", "no-store");
  const CPtr<evbuffer, evbuffer_free_fn> body(evbuffer_new());
  if (body == nullptr) {
    evhttp_send_error(request, 500, nullptr);
    return;
  }
  evbuffer_add(body.get(), response.body.data(), response.body.size());
  evhttp_send_reply(request, response.status, nullptr, body.get());  // HEAD: evhttp drops it
}

}  // namespace dp::io
