#include "cache/entry_table.h"

#include "common/check.h"

namespace dp::cache {

static_assert(sizeof(void*) == 8, "slots pack a 48-bit address with a 16-bit tag");

Entry* EntryTable::find(std::string_view key, std::size_t hash) const {
  if (slots_.empty()) return nullptr;
  const Slot tag = tag_of(hash);
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot slot = slots_[i];
    if (slot == 0) return nullptr;
    if ((slot >> kTagShift) == tag && entry_of(slot)->has_key(key)) return entry_of(slot);
  }
}

bool EntryTable::insert(Entry* entry, std::size_t hash) {
  const auto address = reinterpret_cast<Slot>(entry);
  if ((address & ~kAddressMask) != 0) return false;
  // At most 3/4 full, so probe sequences stay short and always end in an empty slot.
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  // The table is at most 2^32 slots per shard: 32 bits of home are enough.
  entry->table_hash = static_cast<std::uint32_t>(hash);
  place(address | (tag_of(hash) << kTagShift));
  ++size_;
  return true;
}

void EntryTable::place(Slot slot) {
  std::size_t i = home_of(entry_of(slot));
  while (slots_[i] != 0) i = (i + 1) & mask_;
  slots_[i] = slot;
}

void EntryTable::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{0});
  slots_.shrink_to_fit();
  mask_ = slots_.size() - 1;
  hand_ = 0;
  ++layout_;
  for (const Slot slot : old) {
    if (slot != 0) place(slot);
  }
}

Entry* EntryTable::hand_entry() {
  DP_ASSERT(size_ > 0);
  while (slots_[hand_] == 0) hand_advance();
  return entry_of(slots_[hand_]);
}

void EntryTable::erase(const Entry* entry) {
  if (slots_.empty()) return;
  std::size_t hole = home_of(entry);
  while (entry_of(slots_[hole]) != entry) {
    if (slots_[hole] == 0) return;
    hole = (hole + 1) & mask_;
  }
  bool moved = false;
  // Backward-shift deletion: later slots of the run move into the hole when the hole lies
  // between their home and where they sit, so every probe sequence stays unbroken.
  for (std::size_t j = (hole + 1) & mask_; slots_[j] != 0; j = (j + 1) & mask_) {
    const std::size_t home = home_of(entry_of(slots_[j]));
    const bool home_after_hole =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
      moved = true;
    }
  }
  if (moved) ++layout_;
  slots_[hole] = 0;
  --size_;
}

EntryTable EntryTable::take_all() {
  EntryTable taken;
  taken.slots_.swap(slots_);
  taken.mask_ = mask_;
  taken.size_ = size_;
  mask_ = 0;
  size_ = 0;
  hand_ = 0;
  ++layout_;
  return taken;
}

}  // namespace dp::cache
