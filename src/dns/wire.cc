#include "dns/wire.h"

namespace dp::dns::wire {

std::optional<std::size_t> skip_name(std::span<const std::uint8_t> wire, std::size_t pos,
                                     bool* compressed) {
  std::size_t length = 0;
  if (compressed != nullptr) *compressed = false;
  while (true) {
    if (pos >= wire.size()) return std::nullopt;
    const std::uint8_t label = wire[pos];
    if ((label & 0xc0) == 0xc0) {  // RFC 1035 §4.1.4: a pointer ends the name
      if (pos + 2 > wire.size()) return std::nullopt;
      if (compressed != nullptr) *compressed = true;
      return pos + 2;
    }
    if ((label & 0xc0) != 0) return std::nullopt;  // RFC 6891 §5: extended labels are dead
    length += label + 1;
    if (length > 255) return std::nullopt;  // RFC 1035 §2.3.4
    pos += label + 1;
    if (label == 0) return pos;
  }
}

std::optional<RrView> read_rr(std::span<const std::uint8_t> wire, std::size_t pos) {
  const auto after_name = skip_name(wire, pos);
  if (!after_name || *after_name + 10 > wire.size()) return std::nullopt;
  RrView rr;
  rr.start = pos;
  std::size_t p = *after_name;
  rr.type = read_u16(wire, p);
  rr.rrclass = read_u16(wire, p + 2);
  rr.ttl = read_u32(wire, p + 4);
  rr.rdlength = read_u16(wire, p + 8);
  rr.rdata = p + 10;
  rr.end = rr.rdata + rr.rdlength;
  if (rr.end > wire.size()) return std::nullopt;
  return rr;
}

std::optional<std::span<const std::uint8_t>> read_question(std::span<const std::uint8_t> wire,
                                                           std::size_t pos) {
  bool compressed = false;
  const auto after_name = skip_name(wire, pos, &compressed);
  if (!after_name || compressed || *after_name + 4 > wire.size()) return std::nullopt;
  return wire.subspan(pos, *after_name + 4 - pos);
}

void append_opt(std::vector<std::uint8_t>& out, std::uint16_t udp_size, std::uint8_t extended_rcode,
                bool dnssec_ok, std::span<const std::uint8_t> options) {
  out.push_back(0);  // root owner name
  append_u16(out, kTypeOpt);
  append_u16(out, udp_size);  // CLASS carries the UDP payload size
  out.push_back(extended_rcode);
  out.push_back(0);  // version
  append_u16(out, dnssec_ok ? kDoBit : 0);
  append_u16(out, static_cast<std::uint16_t>(options.size()));
  out.insert(out.end(), options.begin(), options.end());
}

}  // namespace dp::dns::wire
