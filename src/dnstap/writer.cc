#include "dnstap/writer.h"

#include <fcntl.h>
#include <fstrm.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "common/c_ptr.h"

namespace dp::dnstap {
namespace {

// libfstrm's destroy functions take T** (and null the pointer); CPtr hands them T*.
void writer_options_free(fstrm_writer_options* p) { fstrm_writer_options_destroy(&p); }
void iothr_options_free(fstrm_iothr_options* p) { fstrm_iothr_options_destroy(&p); }
void writer_free(fstrm_writer* p) { fstrm_writer_destroy(&p); }

using WriterOptionsPtr = CPtr<fstrm_writer_options, writer_options_free>;
using IothrOptionsPtr = CPtr<fstrm_iothr_options, iothr_options_free>;
using FstrmWriterPtr = CPtr<fstrm_writer, writer_free>;

// Writes every byte of `iov` to `fd` (a socket: with MSG_NOSIGNAL, so that a collector gone is
// an error rather than a SIGPIPE), going on after partial writes. Failure on any error or on
// the socket's send timeout.
fstrm_res all_write(int fd, const iovec* iov, int count, bool socket) {
  std::vector<iovec> left(iov, iov + count);
  std::size_t first = 0;
  while (first < left.size()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(left.size() - first, IOV_MAX));
    ssize_t n = 0;
    if (socket) {
      msghdr message{};
      message.msg_iov = left.data() + first;
      message.msg_iovlen = static_cast<std::size_t>(chunk);
      n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    } else {
      n = ::writev(fd, left.data() + first, chunk);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return fstrm_res_failure;
    }
    while (first < left.size() && static_cast<std::size_t>(n) >= left[first].iov_len) {
      n -= static_cast<ssize_t>(left[first].iov_len);
      ++first;
    }
    if (first < left.size()) {
      left[first].iov_base = static_cast<std::uint8_t*>(left[first].iov_base) + n;
      left[first].iov_len -= static_cast<std::size_t>(n);
    }
  }
  return fstrm_res_success;
}

// A file as a libfstrm stream, opened by Writer::open() on the caller's thread: before the
// privilege drop (so that --user needs no write access to the directory) and with a start-up
// error for a path that cannot be written, where libfstrm's own file writer would open it later
// on its thread and retry a failure quietly. It stays open until the Writer goes, so a stream
// closed after a failed write appends when reopened rather than truncating the file.
class FileStream {
 public:
  explicit FileStream(int fd) : fd_(fd) {}
  ~FileStream() { ::close(fd_); }
  FileStream(const FileStream&) = delete;
  FileStream& operator=(const FileStream&) = delete;

  static fstrm_rdwr* rdwr_make(int fd) {
    fstrm_rdwr* rdwr = fstrm_rdwr_init(new FileStream(fd));
    fstrm_rdwr_set_destroy(rdwr, [](void* self) noexcept {
      delete static_cast<FileStream*>(self);
      return fstrm_res_success;
    });
    fstrm_rdwr_set_open(rdwr, [](void*) noexcept { return fstrm_res_success; });
    fstrm_rdwr_set_close(rdwr, [](void*) noexcept { return fstrm_res_success; });
    fstrm_rdwr_set_write(rdwr, [](void* self, const iovec* iov, int count) noexcept {
      return all_write(static_cast<FileStream*>(self)->fd_, iov, count, false);
    });
    return rdwr;
  }

 private:
  int fd_;
};

// A collector's Unix socket as a libfstrm stream. libfstrm's own unix writer blocks without a
// timeout: a collector that connects but stops reading (or never answers the handshake) would
// hold the writer thread for ever, and with it the process's exit. Every read and write here
// gives up after kIoTimeout; libfstrm then closes the stream, drops what it held, and opens
// it again after reopen_seconds.
class UnixStream {
 public:
  static constexpr std::chrono::milliseconds kIoTimeout{1'000};

  explicit UnixStream(std::string path) : path_(std::move(path)) {}
  ~UnixStream() { close(); }
  UnixStream(const UnixStream&) = delete;
  UnixStream& operator=(const UnixStream&) = delete;

  // A stream for fstrm_writer_init(); the rdwr owns this object (its destroy deletes it).
  static fstrm_rdwr* rdwr_make(std::string path) {
    auto* stream = new UnixStream(std::move(path));
    fstrm_rdwr* rdwr = fstrm_rdwr_init(stream);
    fstrm_rdwr_set_destroy(rdwr, [](void* self) noexcept {
      delete static_cast<UnixStream*>(self);
      return fstrm_res_success;
    });
    fstrm_rdwr_set_open(rdwr,
                        [](void* self) noexcept { return static_cast<UnixStream*>(self)->open(); });
    fstrm_rdwr_set_close(rdwr, [](void* self) noexcept {
      static_cast<UnixStream*>(self)->close();
      return fstrm_res_success;
    });
    fstrm_rdwr_set_read(rdwr, [](void* self, void* data, std::size_t count) noexcept {
      return static_cast<UnixStream*>(self)->read(static_cast<std::uint8_t*>(data), count);
    });
    fstrm_rdwr_set_write(rdwr, [](void* self, const iovec* iov, int count) noexcept {
      return static_cast<UnixStream*>(self)->write(iov, count);
    });
    return rdwr;
  }

 private:
  fstrm_res open() {
    close();  // a handshake that failed leaves the last one open
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fstrm_res_failure;
    // Before connect: a collector whose backlog is full would block connect too.
    const auto whole = std::chrono::duration_cast<std::chrono::seconds>(kIoTimeout);
    const timeval timeout{
        static_cast<time_t>(whole.count()),
        static_cast<suseconds_t>(std::chrono::microseconds(kIoTimeout - whole).count())};
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path_.size() >= sizeof(address.sun_path) ||
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) != 0 ||
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) != 0) {
      close();
      return fstrm_res_failure;
    }
    std::memcpy(address.sun_path, path_.c_str(), path_.size() + 1);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
      close();
      return fstrm_res_failure;
    }
    return fstrm_res_success;
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  fstrm_res read(std::uint8_t* data, std::size_t count) {
    while (count > 0) {
      const ssize_t n = ::recv(fd_, data, count, 0);
      if (n == 0) return fstrm_res_stop;  // the collector closed the stream
      if (n < 0) {
        if (errno == EINTR) continue;
        return fstrm_res_failure;  // timed out, or gone
      }
      data += n;
      count -= static_cast<std::size_t>(n);
    }
    return fstrm_res_success;
  }

  fstrm_res write(const iovec* iov, int count) { return all_write(fd_, iov, count, true); }

  std::string path_;
  int fd_ = -1;
};

void check(fstrm_res res, const char* what) {
  if (res != fstrm_res_success) throw std::runtime_error(std::string("dnstap: ") + what);
}

}  // namespace

Destination destination_parse(std::string_view text) {
  constexpr std::string_view kFile = "file:";
  if (text.substr(0, kFile.size()) == kFile) {
    return Destination{Destination::Kind::kFile, std::string(text.substr(kFile.size()))};
  }
  return Destination{Destination::Kind::kUnixSocket, std::string(text)};
}

std::unique_ptr<Writer> Writer::open(const Destination& destination, const WriterOptions& options) {
  if (destination.path.empty()) throw std::runtime_error("dnstap: no path given");
  WriterOptionsPtr writer_options(fstrm_writer_options_init());
  check(fstrm_writer_options_add_content_type(writer_options.get(), kContentType.data(),
                                              kContentType.size()),
        "cannot set the content type");
  FstrmWriterPtr writer;
  if (destination.kind == Destination::Kind::kFile) {
    const int fd = ::open(destination.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw std::runtime_error("dnstap: cannot open " + destination.path + ": " +
                               std::strerror(errno));
    }
    fstrm_rdwr* rdwr = FileStream::rdwr_make(fd);
    writer.reset(fstrm_writer_init(writer_options.get(), &rdwr));  // takes rdwr
  } else {
    fstrm_rdwr* rdwr = UnixStream::rdwr_make(destination.path);
    writer.reset(fstrm_writer_init(writer_options.get(), &rdwr));  // takes rdwr
  }
  if (writer == nullptr) throw std::runtime_error("dnstap: cannot create the writer");
  auto out = std::make_unique<Writer>(writer.get(), options);
  (void)writer.release();  // the Writer's now
  return out;
}

Writer::Writer(fstrm_writer* writer, const WriterOptions& options) : queues_(options.queues) {
  FstrmWriterPtr owned(writer);
  IothrOptionsPtr iothr_options(fstrm_iothr_options_init());
  check(fstrm_iothr_options_set_num_input_queues(iothr_options.get(),
                                                 static_cast<unsigned>(options.queues)),
        "bad queue count");
  check(fstrm_iothr_options_set_input_queue_size(iothr_options.get(),
                                                 static_cast<unsigned>(options.queue_frames)),
        "bad queue size (a power of two from 2 to 16384)");
  check(fstrm_iothr_options_set_reopen_interval(iothr_options.get(), options.reopen_seconds),
        "bad reopen interval (1 to 600 seconds)");
  // Each queue has one producer, its worker: the lock-free single-producer queue serves.
  check(fstrm_iothr_options_set_queue_model(iothr_options.get(), FSTRM_IOTHR_QUEUE_MODEL_SPSC),
        "bad queue model");
  fstrm_writer* taken = owned.release();
  iothr_ = fstrm_iothr_init(iothr_options.get(), &taken);  // takes the writer on success
  if (iothr_ == nullptr) {
    writer_free(taken);
    throw std::runtime_error("dnstap: cannot start the writer thread");
  }
  queue_ = std::make_unique<fstrm_iothr_queue*[]>(queues_);
  for (std::size_t i = 0; i < queues_; ++i) queue_[i] = fstrm_iothr_get_input_queue_idx(iothr_, i);
}

Writer::~Writer() { fstrm_iothr_destroy(&iothr_); }

bool Writer::submit(std::size_t queue, Frame frame) {
  if (frame.bytes == nullptr || queue >= queues_) return false;
  const fstrm_res res = fstrm_iothr_submit(iothr_, queue_[queue], frame.bytes.get(), frame.size,
                                           fstrm_free_wrapper, nullptr);
  if (res != fstrm_res_success) return false;  // the frame is still ours: freed on return
  (void)frame.bytes.release();                 // libfstrm frees it once written or discarded
  return true;
}

}  // namespace dp::dnstap
