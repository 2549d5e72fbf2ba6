// The validator's memory of the chain of trust, one per worker: for each name met while
// walking down from a trust anchor, what it is (a secure zone and its validated keys, a
// delegation whose DS set validated, no zone cut, an insecure delegation, a name that does not
// exist, or bogus), until its records expire. Bounded in bytes: the oldest go first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dnssec/records.h"
#include "dnssec/status.h"

namespace dp::dnssec {

enum class ZoneKind : std::uint8_t {
  kSecureZone,    // a zone apex whose DNSKEY set validated: `keys` sign its data
  kDelegationDs,  // a zone cut whose DS set validated in the parent: its DNSKEYs come next
  kNotACut,       // a name in its parent's zone, no delegation: walk on below it
  kInsecure,      // an insecure delegation (proven no DS, or unsupported algorithms)
  kMissing,       // proven not to exist: nothing below it exists either
  kBogus,         // its DS or DNSKEY set failed to validate: what is below is bogus
};

using KeySet = std::shared_ptr<const std::vector<Dnskey>>;

struct ZoneEntry {
  ZoneKind kind = ZoneKind::kNotACut;
  KeySet keys;                // kSecureZone
  std::vector<Ds> ds;         // kDelegationDs
  Verdict verdict;            // kInsecure, kBogus: why
  std::uint32_t expires = 0;  // Unix seconds; gone from then on
};

class KeyCache {
 public:
  explicit KeyCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  // `name` lowercased wire form. Null when absent or expired by `now`.
  const ZoneEntry* find(std::string_view name, std::uint32_t now);
  // Replaces what was known of `name`; the oldest entries go while over the byte budget.
  void insert(std::string_view name, ZoneEntry entry);
  void clear();
  // The control channel's flushes: what is known of `name` (lowercased wire form), and with
  // `subtree` of every name under it too. Returns the entries removed.
  std::size_t forget(std::string_view name, bool subtree);

  std::size_t entries() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::uint64_t hits() const { return hits_; }
  std::uint64_t misses() const { return misses_; }

 private:
  struct Slot {
    ZoneEntry entry;
    std::size_t bytes = 0;
    std::list<std::string>::iterator age;
  };
  static std::size_t footprint(std::string_view name, const ZoneEntry& entry);
  void erase(std::unordered_map<std::string, Slot>::iterator it);

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, Slot> entries_;
  std::list<std::string> oldest_first_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace dp::dnssec
