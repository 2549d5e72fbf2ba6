#include "dnstap/tap.h"

#include <utility>

namespace dp::dnstap {

Tap::Tap(Writer& writer, std::size_t queue, MessageMask types, Source source, std::uint64_t& queued,
         std::uint64_t& dropped)
    : writer_(writer),
      queue_(queue),
      types_(types),
      source_(std::move(source)),
      queued_(queued),
      dropped_(dropped) {}

void Tap::log(const Event& event) {
  if (writer_.submit(queue_, frame_encode(event, source_))) {
    ++queued_;
  } else {
    ++dropped_;  // queue full, or no memory for the frame
  }
}

}  // namespace dp::dnstap
