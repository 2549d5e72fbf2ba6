#include "cache/entry_table.h"

namespace dp::cache {

Entry* EntryTable::find(std::string_view key, std::size_t hash) const {
  if (slots_.empty()) return nullptr;
  for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
    const Slot& slot = slots_[i];
    if (slot.entry == nullptr) return nullptr;
    if (slot.hash == hash && slot.entry->key() == key) return slot.entry;  // full key compared
  }
}

void EntryTable::insert(Entry* entry, std::size_t hash) {
  // At most 3/4 full, so probe sequences stay short and always end in an empty slot.
  if ((size_ + 1) * 4 > slots_.size() * 3) grow();
  place(Slot{hash, entry});
  ++size_;
}

void EntryTable::place(const Slot& slot) {
  std::size_t i = slot.hash & mask_;
  while (slots_[i].entry != nullptr) i = (i + 1) & mask_;
  slots_[i] = slot;
}

void EntryTable::grow() {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? kInitialSlots : old.size() * 2, Slot{});
  slots_.shrink_to_fit();
  mask_ = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.entry != nullptr) place(slot);
  }
}

void EntryTable::erase(const Entry* entry, std::size_t hash) {
  if (slots_.empty()) return;
  std::size_t hole = hash & mask_;
  while (slots_[hole].entry != entry) {
    if (slots_[hole].entry == nullptr) return;
    hole = (hole + 1) & mask_;
  }
  // Backward-shift deletion: later slots of the run move into the hole when the hole lies
  // between their home and where they sit, so every probe sequence stays unbroken.
  for (std::size_t j = (hole + 1) & mask_; slots_[j].entry != nullptr; j = (j + 1) & mask_) {
    const std::size_t home = slots_[j].hash & mask_;
    const bool home_after_hole =
        hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!home_after_hole) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

}  // namespace dp::cache
