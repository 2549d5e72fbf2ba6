#include "control/client.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "control/protocol.h"

namespace dp::control {
namespace {

constexpr const char* kUsage =
    "usage: dotproxy ctl [--socket PATH] COMMAND [ARGS]\n"
    "commands:\n"
    "  flush NAME [TYPE]   remove NAME's cached answers (every type unless TYPE)\n"
    "  flush-zone NAME     remove the cached answers of NAME and every name under it\n"
    "  flush-all           empty the cache\n"
    "  cache-dump [NAME]   one JSON line per cached answer (of NAME and below)\n"
    "  upstreams           each upstream and forward zone server, as JSON lines\n"
    "  stats               the counters as one JSON object\n"
    "  reload              re-read the configuration, as SIGHUP does\n"
    "  status              version, uptime, workers, readiness\n"
    "The socket: --socket, else $DOTPROXY_CONTROL_SOCKET, else /run/dotproxy/control.sock.\n";

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

int fail(std::FILE* err, const std::string& reason) {
  std::fprintf(err, "dotproxy ctl: %s\n", reason.c_str());
  return 1;
}

}  // namespace

int ctl_run(const std::vector<std::string>& args, const std::string& env_socket, std::FILE* out,
            std::FILE* err) {
  std::string path = env_socket.empty() ? kDefaultSocket : env_socket;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (words.empty() && (arg == "-h" || arg == "--help")) {
      std::fputs(kUsage, out);
      return 0;
    }
    if (words.empty() && arg == "--socket") {
      if (i + 1 == args.size()) {
        std::fprintf(err, "dotproxy ctl: --socket needs a PATH\n%s", kUsage);
        return 2;
      }
      path = args[++i];
      continue;
    }
    if (words.empty() && arg.rfind("--socket=", 0) == 0) {
      path = arg.substr(9);
      continue;
    }
    if (words.empty() && arg.rfind('-', 0) == 0) {
      std::fprintf(err, "dotproxy ctl: unknown option %s\n%s", arg.c_str(), kUsage);
      return 2;
    }
    words.push_back(arg);
  }
  std::string line;
  for (const std::string& word : words) line += (line.empty() ? "" : " ") + word;
  if (line.size() > kMaxRequestBytes) {
    std::fprintf(err, "dotproxy ctl: request longer than %zu bytes\n", kMaxRequestBytes);
    return 2;
  }
  // Checked here too, so a mistyped command is a usage error (2) without a server.
  if (auto request = request_parse(line); !request) {
    std::fprintf(err, "dotproxy ctl: %s\n%s", request.error().c_str(), kUsage);
    return 2;
  }

  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof address.sun_path) {
    return fail(err, "socket path '" + path + "' is empty or too long");
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0)
    return fail(err, std::string("cannot create a socket: ") + std::strerror(errno));
  const timeval timeout{static_cast<time_t>(kClientTimeout.count()), 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    const int error = errno;
    std::string reason = "cannot connect to " + path + ": " + std::strerror(error);
    if (error == ENOENT) reason += " (is dotproxy running with --control-socket " + path + "?)";
    if (error == EACCES) reason += " (run as the user dotproxy runs as, or root)";
    return fail(err, reason);
  }
  line += '\n';
  // A server that refuses (too many connections) says why and closes before it reads: the
  // send then fails, and its line is still there to read.
  std::string send_error;
  for (std::size_t sent = 0; sent < line.size();) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      send_error = std::string("cannot send the request: ") + std::strerror(errno);
      break;
    }
    sent += static_cast<std::size_t>(n);
  }

  // Data lines are copied out as they come; the final "ok ..." or "error ..." line decides.
  std::string pending;
  char buffer[16384];
  for (;;) {
    std::size_t eol = 0;
    while ((eol = pending.find('\n')) != std::string::npos) {
      const std::string reply_line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      if (reply_line == "ok" || reply_line.rfind("ok ", 0) == 0) {
        if (reply_line.size() > 3) std::fprintf(out, "%s\n", reply_line.c_str() + 3);
        std::fflush(out);
        return 0;
      }
      if (reply_line.rfind("error", 0) == 0) {
        std::fflush(out);
        return fail(err, reply_line.size() > 6 ? reply_line.substr(6) : "error");
      }
      std::fwrite(reply_line.data(), 1, reply_line.size(), out);
      std::fputc('\n', out);
    }
    const ssize_t n = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 && !send_error.empty()) return fail(err, send_error);
    if (n < 0) {
      const bool timed_out = errno == EAGAIN || errno == EWOULDBLOCK;
      return fail(err, timed_out
                           ? "no reply within " + std::to_string(kClientTimeout.count()) + " s"
                           : std::string("cannot read the reply: ") + std::strerror(errno));
    }
    if (n == 0) return fail(err, "the server closed the connection before its final line");
    pending.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace dp::control
