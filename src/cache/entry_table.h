// The shard's index: an open-addressing hash table of entry pointers with their hashes, in one
// flat array. A lookup is one probe into the array and one read of the entry's key; an insert
// allocates nothing until the table grows. std::unordered_map cost a node allocation per
// entry and a pointer chase per probe: 12 % of a cache miss's CPU in a profile under load.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache/entry.h"

namespace dp::cache {

// Owned by one Shard, under its mutex. Does not own the entries.
class EntryTable {
 public:
  EntryTable() = default;

  // The entry whose key is `key` (of hash `hash`), or nullptr.
  Entry* find(std::string_view key, std::size_t hash) const;
  // `entry`, of hash `hash`, whose key is in the table under no other entry.
  void insert(Entry* entry, std::size_t hash);
  // Removes `entry` (of hash `hash`); nothing if it is not in the table.
  void erase(const Entry* entry, std::size_t hash);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t held_bytes() const { return slots_.capacity() * sizeof(Slot); }

  // Calls fn(Entry*) for every entry, in no particular order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const Slot& slot : slots_) {
      if (slot.entry != nullptr) fn(slot.entry);
    }
  }

 private:
  struct Slot {
    std::size_t hash = 0;
    Entry* entry = nullptr;  // nullptr: empty
  };
  static constexpr std::size_t kInitialSlots = 64;  // a power of two

  void grow();
  void place(const Slot& slot);  // into the first empty slot of its probe sequence

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace dp::cache
