// The dnstap output: libfstrm's I/O thread writing Frame Streams ("protobuf:dnstap.Dnstap") to a
// collector's Unix socket or to a file, fed by one bounded queue per worker. A full queue
// drops the frame; nothing a worker does here blocks or waits on the collector.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "dnstap/frame.h"

struct fstrm_iothr;
struct fstrm_iothr_queue;
struct fstrm_writer;

namespace dp::dnstap {

inline constexpr std::string_view kContentType = "protobuf:dnstap.Dnstap";

struct WriterOptions {
  std::size_t queues = 1;           // one per worker: each is fed by one thread only
  std::size_t queue_frames = 4096;  // per queue, a power of two; beyond, frames are dropped
  unsigned reopen_seconds = 2;      // a collector gone is tried again this often (1 to 600)
};

// Where frames go: "file:PATH" or a Unix socket path (as --dnstap takes it).
struct Destination {
  enum class Kind { kUnixSocket, kFile };
  Kind kind = Kind::kUnixSocket;
  std::string path;
};
// nullopt-like: an empty path when `text` is empty or "file:" alone.
Destination destination_parse(std::string_view text);

// Owned by the Server, created before its workers and destroyed after them; submit() from the
// workers' threads (each its own queue), the rest from the owner's.
class Writer {
 public:
  // Opens `destination`: a file is created (truncated) at once, so that a path that cannot be
  // written fails here; a socket is connected by the I/O thread, now and again every
  // reopen_seconds while it is gone. Throws std::runtime_error with one line.
  static std::unique_ptr<Writer> open(const Destination& destination, const WriterOptions& options);
  // Takes `writer` (tests bring a writer of their own). Throws std::runtime_error.
  Writer(fstrm_writer* writer, const WriterOptions& options);
  // Writes what the queues hold, closes the stream (a file gets its stop frame), joins the
  // I/O thread.
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Hands `frame` to queue `queue` (< options.queues, one thread per queue). False, the frame
  // freed, when the queue is full. Queued frames are written while the collector is there and
  // discarded by libfstrm while it is not.
  [[nodiscard]] bool submit(std::size_t queue, Frame frame);

  std::size_t queues() const { return queues_; }

 private:
  fstrm_iothr* iothr_ = nullptr;
  std::unique_ptr<fstrm_iothr_queue*[]> queue_;
  std::size_t queues_ = 0;
};

}  // namespace dp::dnstap
