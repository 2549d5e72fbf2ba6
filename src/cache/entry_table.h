// The shard's index: an open-addressing hash table of entry pointers, in one flat array of
// 8-byte slots. A lookup is one probe into the array and one read of the entry's key; an
// insert allocates nothing until the table grows. std::unordered_map cost a node allocation
// per entry and a pointer chase per probe: 12 % of a cache miss's CPU in a profile under load.
//
// A slot packs the entry's address (user-space addresses fit in 48 bits on x86-64 and
// AArch64 Linux unless a program asks mmap for more) with 16 bits of its hash, so most
// probes that are not the key are ruled out without touching the entry. The home slot comes
// from the hash's low bits, which the entry keeps (Entry::table_hash) for growing and erasing.
//
// The array is also the shard's eviction order: a clock hand goes round its slots (Shard::
// evict_one), so ordering entries costs no list links in them.
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
  // `entry`, of hash `hash`, whose key is in the table under no other entry. Sets its
  // table_hash. False (nothing stored) only if its address does not fit a slot.
  bool insert(Entry* entry, std::size_t hash);
  // Removes `entry`; nothing if it is not in the table.
  void erase(const Entry* entry);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t held_bytes() const { return slots_.capacity() * sizeof(Slot); }

  // The clock hand's entry: the hand first moves past empty slots, wrapping at the end. The
  // table must not be empty. An erase at the hand may fill its slot with a later entry of the
  // run (backward shift), so the hand stays put; growing puts it back at the start.
  Entry* hand_entry();
  void hand_advance() { hand_ = (hand_ + 1) & mask_; }

  // For visits in slices that drop the shard's lock in between (the control channel's flush
  // and dump): the slots by index, a power of two of them (0 before the first insert).
  std::size_t slot_count() const { return slots_.size(); }
  Entry* slot_entry(std::size_t i) const { return slots_[i] == 0 ? nullptr : entry_of(slots_[i]); }
  // Changes whenever an entry may have moved to another slot (growth, an erase's backward
  // shift, take_all): a sliced visit that sees it change may have missed an entry moved behind
  // its cursor.
  std::uint64_t layout() const { return layout_; }
  // Hands every entry over to the table returned (O(1)); this one is left empty.
  EntryTable take_all();

  // Calls fn(Entry*) for every entry, in no particular order.
  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const Slot slot : slots_) {
      if (slot != 0) fn(entry_of(slot));
    }
  }

 private:
  using Slot = std::uintptr_t;  // 0: empty
  static constexpr unsigned kTagShift = 48;
  static constexpr Slot kAddressMask = (Slot{1} << kTagShift) - 1;
  static constexpr std::size_t kInitialSlots = 64;  // a power of two

  static Entry* entry_of(Slot slot) { return reinterpret_cast<Entry*>(slot & kAddressMask); }
  // Bits 32-47: the shard was picked by the top bits and the home by the low ones.
  static Slot tag_of(std::size_t hash) { return (static_cast<std::uint64_t>(hash) >> 32) & 0xffff; }
  std::size_t home_of(const Entry* entry) const { return entry->table_hash & mask_; }

  void grow();
  void place(Slot slot);  // into the first empty slot of its probe sequence

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::size_t hand_ = 0;  // a slot index
  std::uint64_t layout_ = 0;
};

}  // namespace dp::cache
