// A worker's end of dnstap: which message types it logs, and the hand-over of each frame to
// its own queue of the Writer, counting what was queued and what was dropped.
#pragma once

#include <cstdint>

#include "dnstap/frame.h"
#include "dnstap/writer.h"

namespace dp::dnstap {

// Owned by one worker (null there when dnstap is off, so that off costs one null check); its
// thread only. The Writer and the counters outlive it.
class Tap {
 public:
  Tap(Writer& writer, std::size_t queue, MessageMask types, Source source, std::uint64_t& queued,
      std::uint64_t& dropped);
  Tap(const Tap&) = delete;
  Tap& operator=(const Tap&) = delete;

  bool wants(MessageType type) const { return (types_ & message_bit(type)) != 0; }
  // Encodes `event` and queues it; a full queue (the collector slow or gone) drops it. Never
  // blocks. Call only when wants(event.type).
  void log(const Event& event);

 private:
  Writer& writer_;
  std::size_t queue_;
  MessageMask types_;
  Source source_;
  std::uint64_t& queued_;
  std::uint64_t& dropped_;
};

}  // namespace dp::dnstap
