#include "policy/blocklist.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

#include "common/ascii.h"

namespace dp::policy {
namespace {

constexpr std::size_t kMaxNameSize = 255;    // RFC 1035 §2.3.4, wire form
constexpr std::size_t kMaxLabelSize = 63;    // RFC 1035 §2.3.4
constexpr std::size_t kMaxLabels = 127;      // 255 bytes of one-byte labels and their lengths
constexpr std::size_t kInitialSlots = 1024;  // grows by doubling at half full

// Hosts-file lines map these to loopback or broadcast; they are boilerplate, not blocks.
constexpr std::string_view kHostsBoilerplate[] = {
    "localhost",     "localhost.localdomain",
    "localhost4",    "localhost4.localdomain4",
    "localhost6",    "localhost6.localdomain6",
    "local",         "broadcasthost",
    "ip6-localhost", "ip6-loopback",
    "ip6-localnet",  "ip6-mcastprefix",
    "ip6-allnodes",  "ip6-allrouters",
    "ip6-allhosts",  "0.0.0.0",
};

// FNV-1a over the name's bytes from last to first, so that the state after a suffix is the
// start of every longer suffix: one pass over a query name hashes all its ancestors.
constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;
constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

inline std::uint64_t hash_step(std::uint64_t state, std::uint8_t byte) {
  return (state ^ byte) * kFnvPrime;
}

// MurmurHash3's fmix64: FNV's low bits alone cluster under linear probing.
inline std::uint64_t hash_finish(std::uint64_t state) {
  state ^= state >> 33;
  state *= 0xff51afd7ed558ccdULL;
  state ^= state >> 33;
  state *= 0xc4ceb9fe1a85ec53ULL;
  state ^= state >> 33;
  return state;
}

std::uint64_t hash_name(std::string_view wire_name) {
  std::uint64_t state = kFnvBasis;
  for (std::size_t i = wire_name.size(); i-- > 0;) {
    state = hash_step(state, static_cast<std::uint8_t>(wire_name[i]));
  }
  return hash_finish(state);
}

// Length of the wire name starting at `data` (its labels up to and including the root).
std::size_t wire_name_size(const char* data) {
  std::size_t pos = 0;
  while (data[pos] != 0) pos += 1 + static_cast<std::uint8_t>(data[pos]);
  return pos + 1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// "Ads.Example.COM." -> lowercase wire form in `out`; its size, or 0 when `text` is not a
// name we take (empty, the root, an empty or oversized label, a character outside
// [A-Za-z0-9_-]).
std::size_t name_to_wire(std::string_view text, std::array<char, kMaxNameSize>& out) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  if (text.empty() || text.size() + 2 > kMaxNameSize) return 0;
  std::size_t label_start = 0;  // index in out of the current label's length byte
  std::size_t pos = 1;
  for (const char raw : text) {
    if (raw == '.') {
      const std::size_t length = pos - label_start - 1;
      if (length == 0 || length > kMaxLabelSize) return 0;
      out[label_start] = static_cast<char>(length);
      label_start = pos++;
      continue;
    }
    const char c = ascii_lower(raw);
    if (!name_char(c)) return 0;
    out[pos++] = c;
  }
  const std::size_t length = pos - label_start - 1;
  if (length == 0 || length > kMaxLabelSize) return 0;
  out[label_start] = static_cast<char>(length);
  out[pos++] = '\0';
  return pos;
}

// Whether the first word of a line is an IPv4 or IPv6 address (a hosts-file line).
bool is_address(std::string_view word) {
  char text[INET6_ADDRSTRLEN];
  if (word.size() >= sizeof(text)) return false;
  for (const char c : word) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != '.' && c != ':') return false;  // a name, not worth inet_pton
  }
  std::memcpy(text, word.data(), word.size());
  text[word.size()] = '\0';
  std::uint8_t address[16];
  return inet_pton(AF_INET, text, address) == 1 || inet_pton(AF_INET6, text, address) == 1;
}

bool is_boilerplate(std::string_view word) {
  if (!word.empty() && word.back() == '.') word.remove_suffix(1);
  for (const std::string_view name : kHostsBoilerplate) {
    if (ascii_lower_equal(word, name)) return true;
  }
  return false;
}

// The whole file, or the errno of the failure.
Result<std::string, int> file_read(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return dp::unexpected(errno);
  std::string text;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) text.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int error = errno;  // EISDIR for a directory
      ::close(fd);
      return dp::unexpected(error);
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return text;
}

}  // namespace

Blocklist::Blocklist() : slots_(kInitialSlots, Slot{kEmpty, 0}) {}

Result<Blocklist, std::string> Blocklist::load(std::span<const std::string> paths) {
  Blocklist list;
  for (const std::string& path : paths) {
    auto text = file_read(path);
    if (!text) {
      return dp::unexpected("cannot read '" + path + "': " + std::strerror(text.error()));
    }
    auto added = list.add_text(*text, path);
    if (!added) return dp::unexpected(added.error());
  }
  list.names_.shrink_to_fit();
  return list;
}

Result<BlocklistFileReport, std::string> Blocklist::add_text(std::string_view text,
                                                             std::string source) {
  BlocklistFileReport report;
  report.source = std::move(source);
  if (text.starts_with("\xef\xbb\xbf")) text.remove_prefix(3);  // a UTF-8 byte order mark
  std::array<char, kMaxNameSize> wire{};
  const auto bad = [&report] {
    if (report.bad_lines++ == 0) report.first_bad_line = report.lines;
  };
  // Adds one name; false once the list is full.
  const auto add = [&](std::string_view word) {
    const std::size_t size = name_to_wire(word, wire);
    if (size == 0) return false;
    if (insert(std::string_view(wire.data(), size))) {
      ++report.names;
    } else {
      ++report.duplicates;
    }
    return true;
  };

  while (!text.empty()) {
    const std::size_t newline = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(std::min(newline + 1, text.size()));
    ++report.lines;
    line = line.substr(0, std::min(line.find('#'), line.size()));

    std::array<std::string_view, 2> first{};  // the first two words
    std::size_t words = 0;
    std::size_t pos = 0;
    const auto next_word = [&]() -> std::string_view {
      while (pos < line.size() && is_space(line[pos])) ++pos;
      const std::size_t start = pos;
      while (pos < line.size() && !is_space(line[pos])) ++pos;
      return line.substr(start, pos - start);
    };
    for (std::string_view word; words < 2 && !(word = next_word()).empty();) first[words++] = word;
    if (words == 0) continue;  // blank or comment

    if (!is_address(first[0])) {
      // A plain list: exactly one name a line.
      if (words > 1 || !add(first[0])) bad();
    } else if (words == 1) {
      bad();  // an address without names
    } else {
      bool line_ok = true;
      for (std::string_view word = first[1]; !word.empty(); word = next_word()) {
        if (!is_boilerplate(word)) line_ok = add(word) && line_ok;
      }
      if (!line_ok) bad();  // its good names are kept
    }
    if (size_ > kMaxNames) {
      return dp::unexpected("'" + report.source + "': more than " + std::to_string(kMaxNames) +
                            " names");
    }
  }
  reports_.push_back(report);
  return report;
}

bool Blocklist::insert(std::string_view wire_name) {
  const std::uint64_t hash = hash_name(wire_name);
  const auto tag = static_cast<std::uint32_t>(hash >> 32);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
    Slot& slot = slots_[i];
    if (slot.offset == kEmpty) break;
    if (slot.tag == tag && names_.compare(slot.offset, wire_name.size(), wire_name) == 0) {
      return false;
    }
  }
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::size_t grown_mask = slots_.size() - 1;
  std::size_t i = hash & grown_mask;
  while (slots_[i].offset != kEmpty) i = (i + 1) & grown_mask;
  slots_[i] = Slot{static_cast<std::uint32_t>(names_.size()), tag};
  names_.append(wire_name);
  ++size_;
  return true;
}

void Blocklist::grow() {
  std::vector<Slot> old(slots_.size() * 2, Slot{kEmpty, 0});
  old.swap(slots_);
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.offset == kEmpty) continue;
    const char* name = names_.data() + slot.offset;
    std::size_t i = hash_name(std::string_view(name, wire_name_size(name))) & mask;
    while (slots_[i].offset != kEmpty) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

bool Blocklist::blocked(std::string_view qname_lower) const {
  if (size_ == 0) return false;
  // Label starts, left to right; the root label (the final 0) is never a block.
  std::array<std::uint8_t, kMaxLabels> starts;
  std::size_t labels = 0;
  std::size_t pos = 0;
  while (pos < qname_lower.size() && qname_lower[pos] != 0) {
    if (labels == starts.size()) return false;  // not a valid name: query_parse rejects it
    starts[labels++] = static_cast<std::uint8_t>(pos);
    pos += 1 + static_cast<std::uint8_t>(qname_lower[pos]);
  }
  if (pos + 1 != qname_lower.size()) return false;  // as above: not one whole wire name

  // Right to left: the TLD first, then each longer suffix, extending one hash state.
  std::uint64_t state = hash_step(kFnvBasis, 0);  // the root byte
  std::size_t hashed_from = pos;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t label = labels; label-- > 0;) {
    const std::size_t start = starts[label];
    while (hashed_from > start) {
      state = hash_step(state, static_cast<std::uint8_t>(qname_lower[--hashed_from]));
    }
    const std::uint64_t hash = hash_finish(state);
    const auto tag = static_cast<std::uint32_t>(hash >> 32);
    const std::string_view suffix = qname_lower.substr(start);
    for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.offset == kEmpty) break;
      // Equal bytes up to the suffix's root label make equal names: both are wire names.
      if (slot.tag == tag && slot.offset + suffix.size() <= names_.size() &&
          std::memcmp(names_.data() + slot.offset, suffix.data(), suffix.size()) == 0) {
        return true;
      }
    }
  }
  return false;
}

std::size_t Blocklist::memory_bytes() const {
  return names_.capacity() + slots_.capacity() * sizeof(Slot);
}

}  // namespace dp::policy
