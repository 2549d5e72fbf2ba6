#include "io/unix_line_server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace dp::io {
namespace {

constexpr std::size_t kOutputHigh = 64 << 10;  // a reply's next part waits until below this
constexpr std::size_t kOutputLow = 16 << 10;   // the write callback fires at this
constexpr int kBacklog = 16;

using BuffereventPtr = CPtr<bufferevent, bufferevent_free_fn>;

std::string errno_text(const std::string& what, const std::string& path) {
  return "control socket: " + what + " " + path + ": " + std::strerror(errno);
}

sockaddr_un address_of(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    throw std::runtime_error("control socket: path '" + path + "' is empty or longer than " +
                             std::to_string(sizeof address.sun_path - 1) + " bytes");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  return address;
}

// Whether a process accepts connections on the socket file at `path` now.
bool socket_live(const sockaddr_un& address) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return live;
}

// Removes a socket file nobody listens on (left by a process that died); refuses anything else.
void stale_remove(const std::string& path, const sockaddr_un& address) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error(errno_text("cannot stat", path));
  }
  if (!S_ISSOCK(st.st_mode)) {
    throw std::runtime_error("control socket: " + path + " exists and is not a socket");
  }
  if (socket_live(address)) {
    throw std::runtime_error("control socket: another process is listening on " + path +
                             " (a dotproxy already running?)");
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    throw std::runtime_error(errno_text("cannot remove the stale socket", path));
  }
}

}  // namespace

struct UnixLineServer::Connection {
  UnixLineServer* server = nullptr;
  BuffereventPtr bev;
  std::unique_ptr<LineReply> reply;  // set while a reply is being sent
  bool closing = false;              // the last bytes are going out; then closed
  std::list<std::unique_ptr<Connection>>::iterator self;
};

UnixLineServer::UnixLineServer(UnixLineServerOptions options, LineHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  const sockaddr_un address = address_of(options_.path);
  const std::size_t slash = options_.path.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                                           : options_.path.substr(0, slash);
  struct stat st {};
  if (::stat(directory.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::runtime_error("control socket: directory " + directory +
                             " does not exist (create it, e.g. with systemd's RuntimeDirectory=)");
  }
  stale_remove(options_.path, address);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(errno_text("cannot create a socket for", options_.path));
  // Mode 0600 from the start: no moment in which another user may connect. Start-up is
  // single-threaded here, so the process-wide umask changes nothing else.
  const mode_t old_mask = ::umask(0177);
  const int bound = ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  ::umask(old_mask);
  try {
    if (bound != 0) throw std::runtime_error(errno_text("cannot bind", options_.path));
    if (::chmod(options_.path.c_str(), 0600) != 0) {
      throw std::runtime_error(errno_text("cannot chmod", options_.path));
    }
    if ((options_.owner != static_cast<uid_t>(-1) || options_.group != static_cast<gid_t>(-1)) &&
        ::chown(options_.path.c_str(), options_.owner, options_.group) != 0) {
      throw std::runtime_error(errno_text("cannot chown", options_.path));
    }
    if (::lstat(options_.path.c_str(), &st) != 0) {
      throw std::runtime_error(errno_text("cannot stat", options_.path));
    }
    device_ = st.st_dev;
    inode_ = st.st_ino;
    if (::listen(fd_, kBacklog) != 0)
      throw std::runtime_error(errno_text("cannot listen on", options_.path));
    accept_event_.reset(
        event_new(loop_.base(), fd_, EV_READ | EV_PERSIST, &UnixLineServer::on_accept, this));
    if (!accept_event_ || event_add(accept_event_.get(), nullptr) != 0) {
      throw std::runtime_error("control socket: libevent cannot watch " + options_.path);
    }
  } catch (...) {
    if (bound == 0) ::unlink(options_.path.c_str());
    ::close(fd_);
    throw;
  }
}

UnixLineServer::~UnixLineServer() {
  stop();
  connections_.clear();  // their bufferevents before the loop's base
  accept_event_.reset();
  ::close(fd_);
  // Only the file this process made: a later process may have replaced it (it found ours
  // stale), and its socket is not ours to remove.
  struct stat st {};
  if (::lstat(options_.path.c_str(), &st) == 0 && st.st_dev == device_ && st.st_ino == inode_) {
    ::unlink(options_.path.c_str());
  }
}

void UnixLineServer::start() {
  thread_ = std::thread([this] { loop_.run(); });
}

void UnixLineServer::stop() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

void UnixLineServer::on_accept(int /*fd*/, short /*what*/, void* self) noexcept {
  static_cast<UnixLineServer*>(self)->accept_all();
}

void UnixLineServer::accept_all() {
  for (;;) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN, or a client gone before we took it
    if (connections_.size() >= options_.max_connections) {
      // Best effort: a new socket's buffer takes one short line without blocking.
      (void)::send(fd, options_.busy_reply.data(), options_.busy_reply.size(),
                   MSG_DONTWAIT | MSG_NOSIGNAL);
      ::close(fd);
      continue;
    }
    auto conn = std::make_unique<Connection>();
    conn->server = this;
    conn->bev.reset(bufferevent_socket_new(loop_.base(), fd, BEV_OPT_CLOSE_ON_FREE));
    if (!conn->bev) {
      ::close(fd);
      continue;
    }
    Connection* raw = conn.get();
    connections_.push_back(std::move(conn));
    raw->self = std::prev(connections_.end());
    bufferevent_setcb(raw->bev.get(), &UnixLineServer::on_read, &UnixLineServer::on_write,
                      &UnixLineServer::on_event, raw);
    bufferevent_setwatermark(raw->bev.get(), EV_WRITE, kOutputLow, 0);
    const auto seconds = options_.idle_timeout.count() / 1000;
    const timeval idle{static_cast<time_t>(seconds),
                       static_cast<suseconds_t>((options_.idle_timeout.count() % 1000) * 1000)};
    bufferevent_set_timeouts(raw->bev.get(), &idle, &idle);
    bufferevent_enable(raw->bev.get(), EV_READ | EV_WRITE);
  }
}

void UnixLineServer::on_read(bufferevent* /*bev*/, void* self) noexcept {
  auto* conn = static_cast<Connection*>(self);
  conn->server->input_take(*conn);
}

void UnixLineServer::on_write(bufferevent* /*bev*/, void* self) noexcept {
  auto* conn = static_cast<Connection*>(self);
  UnixLineServer& server = *conn->server;
  if (conn->closing) {
    if (evbuffer_get_length(bufferevent_get_output(conn->bev.get())) == 0) server.close(*conn);
    return;
  }
  if (conn->reply) server.reply_pump(*conn);
}

void UnixLineServer::on_event(bufferevent* /*bev*/, short /*what*/, void* self) noexcept {
  // EOF, an error or the idle timeout: nothing more to say to this client.
  auto* conn = static_cast<Connection*>(self);
  conn->server->close(*conn);
}

void UnixLineServer::input_take(Connection& conn) {
  if (conn.reply || conn.closing) return;  // one request at a time; the next waits its turn
  evbuffer* input = bufferevent_get_input(conn.bev.get());
  std::size_t line_length = 0;
  const evbuffer_ptr eol = evbuffer_search_eol(input, nullptr, &line_length, EVBUFFER_EOL_LF);
  const bool whole = eol.pos >= 0;
  const auto refuse = [this, &conn] {
    bufferevent_disable(conn.bev.get(), EV_READ);
    bufferevent_write(conn.bev.get(), options_.oversized_reply.data(),
                      options_.oversized_reply.size());
    conn.closing = true;
  };
  if (!whole) {
    // One byte more may still be the "\r" of a "\r\n".
    if (evbuffer_get_length(input) > options_.max_line_bytes + 1) refuse();
    return;
  }
  const auto length = static_cast<std::size_t>(eol.pos);
  if (length > options_.max_line_bytes + 1) {
    refuse();
    return;
  }
  std::string line(length, '\0');
  evbuffer_remove(input, line.data(), length);
  evbuffer_drain(input, 1);  // the "\n"
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > options_.max_line_bytes) {
    refuse();
    return;
  }
  bufferevent_disable(conn.bev.get(), EV_READ);  // until this reply is out
  conn.reply = handler_(line);
  reply_pump(conn);
}

void UnixLineServer::reply_pump(Connection& conn) {
  evbuffer* output = bufferevent_get_output(conn.bev.get());
  std::string part;
  while (conn.reply && evbuffer_get_length(output) < kOutputHigh) {
    part.clear();
    const bool more = conn.reply->next(part);
    if (!part.empty()) evbuffer_add(output, part.data(), part.size());
    if (more) continue;
    const bool close_after = conn.reply->close_after;
    conn.reply.reset();
    if (close_after) {
      conn.closing = true;
      if (evbuffer_get_length(output) == 0) close(conn);
      return;
    }
    bufferevent_enable(conn.bev.get(), EV_READ);
    input_take(conn);  // a request already waiting
    return;
  }
}

void UnixLineServer::close(Connection& conn) {
  std::unique_ptr<Connection> doomed = std::move(*conn.self);
  connections_.erase(conn.self);
  // Called from its own bufferevent's callback: freed once that has returned.
  bufferevent_disable(doomed->bev.get(), EV_READ | EV_WRITE);
  loop_.defer_delete(std::move(doomed));
}

}  // namespace dp::io
