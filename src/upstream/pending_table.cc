#include "upstream/pending_table.h"

#include <algorithm>
#include <bit>

#include "common/check.h"

namespace dp::upstream {

PendingTable::PendingTable(std::size_t capacity)
    : capacity_(std::clamp<std::size_t>(capacity, 1, kEmpty)),
      // At most half full: probes stay short.
      mask_(std::bit_ceil(capacity_ * 2) - 1),
      index_(mask_ + 1, kEmpty) {}

std::size_t PendingTable::home(std::uint16_t id) const {
  // Fibonacci hashing: IDs are random today, but sequential ones must not cluster either.
  return static_cast<std::size_t>((std::uint32_t{id} * 0x9E3779B1U) >> 16) & mask_;
}

std::size_t PendingTable::position(std::uint16_t id) const {
  for (std::size_t i = home(id);; i = (i + 1) & mask_) {
    const std::uint16_t slot = index_[i];
    if (slot == kEmpty) return kNone;
    if (slots_[slot].id == id) return i;
  }
}

PendingTable::Entry* PendingTable::find(std::uint16_t id) {
  const std::size_t i = position(id);
  return i == kNone ? nullptr : &slots_[index_[i]].entry;
}

PendingTable::Entry& PendingTable::insert(std::uint16_t id) {
  DP_ASSERT(!full());
  std::uint16_t slot = 0;
  if (free_.empty()) {
    slot = static_cast<std::uint16_t>(slots_.size());
    slots_.emplace_back();
  } else {
    slot = free_.back();
    free_.pop_back();
  }
  slots_[slot].id = id;
  std::size_t i = home(id);
  while (index_[i] != kEmpty) i = (i + 1) & mask_;
  index_[i] = slot;
  ++size_;
  return slots_[slot].entry;
}

bool PendingTable::erase(std::uint16_t id) {
  std::size_t hole = position(id);
  if (hole == kNone) return false;
  free_.push_back(index_[hole]);
  --size_;
  // Backward-shift deletion: no tombstones, so lookups never slow down with churn.
  for (std::size_t j = (hole + 1) & mask_; index_[j] != kEmpty; j = (j + 1) & mask_) {
    const std::size_t want = home(slots_[index_[j]].id);
    // index_[j] may fill the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (hole < want && want <= j) : (hole < want || want <= j);
    if (stays) continue;
    index_[hole] = index_[j];
    hole = j;
  }
  index_[hole] = kEmpty;
  return true;
}

void PendingTable::clear() {
  std::fill(index_.begin(), index_.end(), kEmpty);
  free_.clear();
  for (std::size_t s = slots_.size(); s > 0; --s)
    free_.push_back(static_cast<std::uint16_t>(s - 1));
  size_ = 0;
}

}  // namespace dp::upstream
