// The queries in flight on one DoT connection, by DNS ID: an open-addressing index over slots
// that are reused, so once the table has held n queries at once, n more cost no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "dns/message.h"

namespace dp::upstream {

// Owned by one StreamConnection; its worker's thread only.
class PendingTable {
 public:
  struct Entry {
    std::uint64_t request_id = 0;
    dns::Question question;  // its string keeps its room from one query to the next
  };

  // Holds at most min(capacity, 65535) entries at once.
  explicit PendingTable(std::size_t capacity);

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ >= capacity_; }

  bool contains(std::uint16_t id) const { return position(id) != kNone; }
  // Valid until the next insert().
  Entry* find(std::uint16_t id);
  // Precondition: !full() and !contains(id). The entry holds whatever its last user left.
  Entry& insert(std::uint16_t id);
  // False when `id` is not there.
  bool erase(std::uint16_t id);
  void clear();

  template <class Fn>
  void for_each(Fn&& fn) const {
    for (const std::uint16_t slot : index_) {
      if (slot != kEmpty) fn(slots_[slot].entry);
    }
  }

 private:
  static constexpr std::uint16_t kEmpty = 0xffff;        // an unused index cell
  static constexpr std::size_t kNone = ~std::size_t{0};  // not in the index
  struct Slot {
    std::uint16_t id = 0;
    Entry entry;
  };

  std::size_t home(std::uint16_t id) const;
  std::size_t position(std::uint16_t id) const;

  std::size_t capacity_;
  std::size_t mask_;                  // index_.size() - 1
  std::vector<std::uint16_t> index_;  // linear probing; slot numbers, kEmpty when unused
  std::vector<Slot> slots_;           // grows to the most ever held at once, never shrinks
  std::vector<std::uint16_t> free_;   // slot numbers not in use
  std::size_t size_ = 0;
};

}  // namespace dp::upstream
