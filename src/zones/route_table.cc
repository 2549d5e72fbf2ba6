#include "zones/route_table.h"

#include <algorithm>
#include <cstring>

#include "common/check.h"

namespace dp::zones {
namespace {

constexpr std::uint64_t kMul = 0x9e3779b97f4a7c15ULL;  // 2^64 / golden ratio

std::uint64_t mix(std::uint64_t h) {
  h ^= h >> 32;
  h *= kMul;
  h ^= h >> 29;
  return h;
}

// A fast hash of a short byte string: 8 bytes per multiply. Names are at most 255 bytes and
// come from clients, but the table only holds our own zones: a collision costs a compare,
// never a wrong answer (the full name is compared).
std::uint64_t name_hash(std::string_view name) {
  std::uint64_t h = name.size() * kMul;
  const char* p = name.data();
  std::size_t n = name.size();
  while (n >= 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    h = (h ^ v) * kMul;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    h = (h ^ v) * kMul;
  }
  return mix(h);
}

// True if `suffix` is `name` or one of its ancestors; both lowercase wire names.
bool name_at_or_under(std::string_view name, std::string_view suffix) {
  std::size_t pos = 0;
  while (pos < name.size()) {
    if (name.size() - pos == suffix.size()) return name.substr(pos) == suffix;
    if (name.size() - pos < suffix.size()) return false;
    pos += 1 + static_cast<std::uint8_t>(name[pos]);
  }
  return false;
}

std::string lowered(std::string_view wire) {
  std::string out(wire);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // lengths are <= 63
  }
  return out;
}

}  // namespace

Route RouteTable::route_find(std::string_view qname_lower_wire) const {
  if (count_ == 0) return {};
  const std::string_view name = qname_lower_wire;
  std::size_t pos = 0;
  // Longest first: the first suffix found is the longest match. The root ("\0") is never a
  // zone (the configuration refuses it), so the walk stops at the last label.
  while (pos < name.size()) {
    const auto label = static_cast<std::uint8_t>(name[pos]);
    if (label == 0) break;
    const std::size_t size = name.size() - pos;
    if (size < 256 && (sizes_[size >> 6] >> (size & 63) & 1) != 0) {
      const std::string_view suffix = name.substr(pos);
      const std::uint64_t hash = name_hash(suffix);
      const std::size_t mask = slots_.size() - 1;
      for (std::size_t i = hash & mask;; i = (i + 1) & mask) {
        const Slot& slot = slots_[i];
        if (slot.size == 0) break;
        if (slot.hash == hash && slot.size == size &&
            std::memcmp(names_.data() + slot.offset, suffix.data(), size) == 0) {
          return slot.route;
        }
      }
    }
    pos += 1 + label;
  }
  return {};
}

void RouteTable::slots_grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(std::max<std::size_t>(16, old.size() * 2), Slot{});
  const std::size_t mask = slots_.size() - 1;
  for (const Slot& slot : old) {
    if (slot.size == 0) continue;
    std::size_t i = slot.hash & mask;
    while (slots_[i].size != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
}

void RouteTable::insert(std::string_view name_wire, Route route) {
  DP_ASSERT(!name_wire.empty() && name_wire.size() < 256);
  if ((count_ + 1) * 2 > slots_.size()) slots_grow();
  const std::uint64_t hash = name_hash(name_wire);
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  for (; slots_[i].size != 0; i = (i + 1) & mask) {
    const Slot& slot = slots_[i];
    if (slot.hash == hash && slot.size == name_wire.size() &&
        std::string_view(names_).substr(slot.offset, slot.size) == name_wire) {
      slots_[i].route = route;
      return;
    }
  }
  slots_[i] = Slot{hash, static_cast<std::uint32_t>(names_.size()),
                   static_cast<std::uint16_t>(name_wire.size()), route};
  names_.append(name_wire);
  sizes_[name_wire.size() >> 6] |= std::uint64_t{1} << (name_wire.size() & 63);
  ++count_;
}

RouteTableBuild route_table_build(const std::vector<ForwardZoneEntry>& forward_zones,
                                  const std::vector<std::string>& builtin_apexes_wire) {
  RouteTableBuild out;
  out.taken_over.resize(forward_zones.size());

  std::vector<std::string> always_local;
  for (const std::string& apex : builtin_apexes_wire) {
    if (dns::LocalZones::apex_always_local(apex)) always_local.push_back(lowered(apex));
  }
  // The forward zones that take part, with their index: not under an always-local zone, not a
  // repeat of an earlier name.
  std::vector<std::pair<std::string, std::size_t>> forwards;
  for (std::size_t i = 0; i < forward_zones.size(); ++i) {
    std::string name = lowered(forward_zones[i].name_wire);
    if (name.empty() || name == std::string_view("\0", 1)) continue;
    const bool under_local = std::any_of(always_local.begin(), always_local.end(),
                                         [&](const auto& l) { return name_at_or_under(name, l); });
    const bool repeat = std::any_of(forwards.begin(), forwards.end(),
                                    [&](const auto& f) { return f.first == name; });
    if (under_local || repeat) continue;
    forwards.emplace_back(std::move(name), i);
  }

  // Each built-in zone at or under a forward zone goes to the longest such zone; the others
  // stay local. An `upstream` exception takes over nothing: `in-addr.arpa upstream` must not
  // send the private reverse zones (RFC 6303) to the public upstreams.
  std::vector<std::string> taken;
  std::vector<std::string> kept;
  for (const std::string& raw_apex : builtin_apexes_wire) {
    std::string apex = lowered(raw_apex);
    const std::pair<std::string, std::size_t>* owner = nullptr;
    if (!dns::LocalZones::apex_always_local(apex)) {
      for (const auto& f : forwards) {
        if (forward_zones[f.second].upstream) continue;
        if (name_at_or_under(apex, f.first) &&
            (owner == nullptr || f.first.size() > owner->first.size()))
          owner = &f;
      }
    }
    if (owner != nullptr) {
      out.taken_over[owner->second].push_back(apex);
      taken.push_back(std::move(apex));
    } else {
      kept.push_back(std::move(apex));
    }
  }

  for (const auto& [name, index] : forwards) {
    const bool upstream = forward_zones[index].upstream;
    out.table.insert(
        name, upstream ? Route{} : Route{Route::Kind::kForward, static_cast<std::uint16_t>(index)});
  }
  for (const std::string& apex : kept) out.table.insert(apex, Route{Route::Kind::kLocal, 0});

  // dns::LocalZones knows only the defaults: what is not kept (taken over, or not in force) goes.
  std::vector<std::string> dropped;
  for (std::string& apex : dns::LocalZones::default_apexes()) {
    if (std::find(kept.begin(), kept.end(), apex) == kept.end()) dropped.push_back(std::move(apex));
  }
  out.local_zones =
      kept.empty() ? dns::LocalZones::none() : dns::LocalZones::defaults_except(dropped);
  return out;
}

std::string name_text_to_wire(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  std::string out;
  while (!text.empty()) {
    const std::size_t dot = std::min(text.find('.'), text.size());
    out.push_back(static_cast<char>(dot));
    out.append(text.substr(0, dot));
    text.remove_prefix(std::min(dot + 1, text.size()));
  }
  out.push_back('\0');
  return lowered(out);
}

std::string name_wire_to_text(std::string_view wire) {
  std::string out;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    const auto label = static_cast<std::uint8_t>(wire[pos]);
    if (label == 0 || pos + 1 + label > wire.size()) break;
    if (!out.empty()) out += '.';
    out.append(wire.substr(pos + 1, label));
    pos += 1 + label;
  }
  return out.empty() ? "." : out;
}

}  // namespace dp::zones
