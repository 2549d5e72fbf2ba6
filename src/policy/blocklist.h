// Blocked names: lists of domain names from files, each blocking itself and every name under
// it. One flat open-addressing hash set of lowercase wire names; a lookup hashes every
// label-aligned suffix of the query name in one backward pass and probes once per label.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dp::policy {

// What one file gave the list, for the load's log lines.
struct BlocklistFileReport {
  std::string source;              // the path (or the name given to add_text)
  std::size_t lines = 0;           // lines read, blank and comment lines included
  std::size_t names = 0;           // names new to the list
  std::size_t duplicates = 0;      // valid names the list held already
  std::size_t bad_lines = 0;       // malformed lines, skipped
  std::size_t first_bad_line = 0;  // 1-based number of the first malformed line; 0: none
};

// The file format, one entry a line, '#' to the end of a line a comment, blank lines ignored:
//   ads.example.com                      a name (a trailing dot is allowed)
//   0.0.0.0 ads.example.com              a hosts-file line: an IPv4/IPv6 address, then names
//   127.0.0.1 a.example b.example        (the address is ignored; every name is taken)
// Names are case-insensitive ASCII: letters, digits, '-' and '_', labels of 1..63 bytes, at
// most 255 bytes in wire form (RFC 1035 §2.3.4). The root cannot be blocked; a TLD can.
// Hosts-file boilerplate (localhost, localhost.localdomain, broadcasthost, ip6-localhost, ...)
// is skipped on address lines. Anything else is a malformed line: skipped and counted.
//
// Built by one thread (load, add_text), then shared as a shared_ptr<const Blocklist> by every
// worker and read without locks. A reload builds a new one and swaps the pointer.
class Blocklist {
 public:
  // Bounds memory (about 40 bytes a typical name, table included) and keeps every offset in
  // 32 bits even at 255-byte names; a load beyond it fails.
  static constexpr std::size_t kMaxNames = 10'000'000;

  Blocklist();

  // Reads every file in order into one list. Errors: "cannot read 'PATH': REASON" for the
  // first file that cannot be opened or read, and add_text's error. Malformed lines are not
  // errors: see reports().
  static Result<Blocklist, std::string> load(std::span<const std::string> paths);

  // Adds the entries of `text`, one file's content, reported as `source`. Errors: "'SOURCE':
  // more than 10000000 names" (the entries up to the limit stay added).
  Result<BlocklistFileReport, std::string> add_text(std::string_view text, std::string source);

  // True when `qname_lower` (lowercase uncompressed wire form, as in dns::Question) or one of
  // its ancestors is in the list. Hot path: no allocation, one hash probe per label.
  bool blocked(std::string_view qname_lower) const;

  std::size_t size() const { return size_; }  // distinct names
  // Heap bytes held: the names' wire bytes plus the slot table (reported in the load log).
  std::size_t memory_bytes() const;
  const std::vector<BlocklistFileReport>& reports() const { return reports_; }

 private:
  // One table slot: where the name starts in names_, and the hash's high half so that most
  // mismatches are settled without touching names_. offset kEmpty: a free slot.
  struct Slot {
    std::uint32_t offset;
    std::uint32_t tag;
  };
  static constexpr std::uint32_t kEmpty = 0xffffffff;

  // Adds one lowercase wire name; false when it was there already.
  bool insert(std::string_view wire_name);
  void grow();

  std::string names_;        // every name's wire form, back to back
  std::vector<Slot> slots_;  // power-of-two size, at most half full (linear probing)
  std::size_t size_ = 0;
  std::vector<BlocklistFileReport> reports_;
};

}  // namespace dp::policy
