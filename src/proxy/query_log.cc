#include "proxy/query_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/log.h"
#include "dns/question_text.h"
#include "dns/wire.h"

namespace dp::proxy {
namespace {

int open_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

void write_all(int fd, const std::string& text) {
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // disk full or gone: the log is best effort
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

QueryLogWriter::QueryLogWriter(const std::string& path) : path_(path), fd_(open_append(path)) {
  if (fd_ < 0) {
    throw std::runtime_error("query_log: cannot open '" + path + "': " + std::strerror(errno));
  }
  thread_ = std::thread([this] { run(); });
}

QueryLogWriter::~QueryLogWriter() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  ::close(fd_);
}

bool QueryLogWriter::submit(std::string chunk) {
  {
    std::lock_guard lock(mutex_);
    if (queued_bytes_ + chunk.size() > kMaxQueuedBytes) return false;
    queued_bytes_ += chunk.size();
    queue_.push_back(std::move(chunk));
  }
  wake_.notify_one();
  return true;
}

void QueryLogWriter::reopen() {
  {
    std::lock_guard lock(mutex_);
    reopen_ = true;
  }
  wake_.notify_one();
}

void QueryLogWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stop_ || reopen_ || !queue_.empty(); });
    if (reopen_) {
      reopen_ = false;
      const int fd = open_append(path_);
      if (fd >= 0) {  // else keep writing to the old one: better than losing lines
        ::close(fd_);
        fd_ = fd;
      }
    }
    while (!queue_.empty()) {
      std::string chunk = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= chunk.size();
      lock.unlock();  // workers may queue while the disk is busy
      write_all(fd_, chunk);
      lock.lock();
    }
    if (stop_) return;
  }
}

void query_log_line(std::string& out, const ClientRef& client, std::span<const std::uint8_t> reply,
                    std::string_view route) {
  if (reply.size() < dns::kHeaderSize) return;
  out += "time=";
  out += log::utc_now_text();
  out += " client=";
  out += client.peer.to_string();
  out += client.transport == Transport::kUdp ? " transport=udp" : " transport=tcp";
  if (const auto question = dns::question_text(reply)) {
    out += " name=";
    out += question->name;  // escaped: no spaces or quotes left in it
    out += " type=";
    out += question->type;
  }
  out += " route=";
  out += route;
  out += " rcode=";
  out += dns::rcode_text(static_cast<std::uint8_t>(dns::wire_get_rcode(reply)));
  out += " size=";
  out += std::to_string(reply.size());
  out += (reply[dns::wire::kFlags1] & dns::wire::kTcBit) != 0 ? " tc=1\n" : " tc=0\n";
}

}  // namespace dp::proxy
