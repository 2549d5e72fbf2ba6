// DNS wire format (RFC 1035 §4.1) for the paths that work on raw bytes: header fields and
// accessors, bounds-checked walks over names and records, and the OPT RR we append.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "dns/message.h"

namespace dp::dns::wire {

// Header layout (RFC 1035 §4.1.1).
inline constexpr std::size_t kFlags1 = 2;  // QR opcode AA TC RD
inline constexpr std::size_t kFlags2 = 3;  // RA Z AD CD rcode
inline constexpr std::size_t kQdCount = 4;
inline constexpr std::size_t kAnCount = 6;
inline constexpr std::size_t kNsCount = 8;
inline constexpr std::size_t kArCount = 10;
inline constexpr std::uint8_t kQrBit = 0x80;
inline constexpr std::uint8_t kAaBit = 0x04;
inline constexpr std::uint8_t kTcBit = 0x02;
inline constexpr std::uint8_t kRdBit = 0x01;
inline constexpr std::uint8_t kRaBit = 0x80;
inline constexpr std::uint8_t kAdBit = 0x20;
inline constexpr std::uint8_t kCdBit = 0x10;

inline constexpr std::uint16_t kTypeOpt = 41;
inline constexpr std::uint16_t kTypeTsig = 250;
inline constexpr std::uint16_t kOptionCookie = 10;     // RFC 7873
inline constexpr std::uint16_t kOptionKeepalive = 11;  // RFC 7828
inline constexpr std::uint16_t kOptionPadding = 12;    // RFC 7830
inline constexpr std::uint16_t kOptionEde = 15;        // RFC 8914
inline constexpr std::uint16_t kDoBit = 0x8000;        // RFC 3225 §3, in the OPT TTL's flags
inline constexpr std::size_t kOptFixedSize = 11;       // root name, type, class, TTL, rdlength

// Caller has checked pos + 2 <= wire.size().
inline std::uint16_t read_u16(std::span<const std::uint8_t> wire, std::size_t pos) {
  return static_cast<std::uint16_t>((wire[pos] << 8) | wire[pos + 1]);
}
inline void write_u16(std::span<std::uint8_t> wire, std::size_t pos, std::uint16_t value) {
  wire[pos] = static_cast<std::uint8_t>(value >> 8);
  wire[pos + 1] = static_cast<std::uint8_t>(value & 0xff);
}
inline void append_u16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}
// Caller has checked pos + 4 <= wire.size().
inline std::uint32_t read_u32(std::span<const std::uint8_t> wire, std::size_t pos) {
  return (std::uint32_t{read_u16(wire, pos)} << 16) | read_u16(wire, pos + 2);
}
inline void write_u32(std::span<std::uint8_t> wire, std::size_t pos, std::uint32_t value) {
  write_u16(wire, pos, static_cast<std::uint16_t>(value >> 16));
  write_u16(wire, pos + 2, static_cast<std::uint16_t>(value & 0xffff));
}
inline void append_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
  append_u16(out, static_cast<std::uint16_t>(value >> 16));
  append_u16(out, static_cast<std::uint16_t>(value & 0xffff));
}

inline std::uint8_t opcode(std::span<const std::uint8_t> header) {
  return (header[kFlags1] >> 3) & 0x0f;
}

// Offset just past the name at `pos`, or nullopt if it runs off the end, has a reserved label
// type or is longer than 255 bytes. Pointers are not followed: only the bytes at `pos` count.
// *compressed (if given) is set when the name ends in a pointer.
std::optional<std::size_t> skip_name(std::span<const std::uint8_t> wire, std::size_t pos,
                                     bool* compressed = nullptr);

// One resource record located in a message.
struct RrView {
  std::size_t start = 0;  // owner name
  std::uint16_t type = 0;
  std::uint16_t rrclass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata = 0;  // offset of RDATA
  std::uint16_t rdlength = 0;
  std::size_t end = 0;  // one past RDATA
};

// The RR at `pos`, or nullopt if any part of it lies outside `wire`.
std::optional<RrView> read_rr(std::span<const std::uint8_t> wire, std::size_t pos);

// The question at `pos` (name + type + class) as a span, or nullopt if unreadable or compressed.
std::optional<std::span<const std::uint8_t>> read_question(std::span<const std::uint8_t> wire,
                                                           std::size_t pos);

enum class Section { kAnswer, kAuthority, kAdditional };

// Calls fn(Section, const RrView&) for each RR after the question section, in order, as the
// header counts say. Returns false if a question or RR is unreadable; fn has then seen only
// the readable prefix.
template <class Fn>
bool for_each_rr(std::span<const std::uint8_t> wire, Fn&& fn) {
  if (wire.size() < kHeaderSize) return false;
  std::size_t pos = kHeaderSize;
  for (std::uint16_t i = read_u16(wire, kQdCount); i > 0; --i) {
    const auto after_name = skip_name(wire, pos);
    if (!after_name || *after_name + 4 > wire.size()) return false;
    pos = *after_name + 4;
  }
  const std::uint16_t counts[] = {read_u16(wire, kAnCount), read_u16(wire, kNsCount),
                                  read_u16(wire, kArCount)};
  for (int section = 0; section < 3; ++section) {
    for (std::uint16_t i = counts[section]; i > 0; --i) {
      const auto rr = read_rr(wire, pos);
      if (!rr) return false;
      fn(static_cast<Section>(section), *rr);
      pos = rr->end;
    }
  }
  return true;
}

// Appends an OPT RR (RFC 6891 §6.1.2) with our UDP size, version 0 and `options` as RDATA.
void append_opt(std::vector<std::uint8_t>& out, std::uint16_t udp_size, std::uint8_t extended_rcode,
                bool dnssec_ok, std::span<const std::uint8_t> options = {});

}  // namespace dp::dns::wire

namespace dp::dns {

// The header fields every layer reads or sets on raw messages, safe on any size.
// The ID, or 0 when `wire` is shorter than it.
inline std::uint16_t wire_get_id(std::span<const std::uint8_t> wire) {
  return wire.size() < 2 ? 0 : wire::read_u16(wire, 0);
}
// Sets the ID; leaves a message shorter than it alone.
inline void wire_set_id(std::span<std::uint8_t> wire, std::uint16_t id) {
  if (wire.size() >= 2) wire::write_u16(wire, 0, id);
}
// Header rcode only (4 bits); kFormErr when `wire` is shorter than a header.
inline Rcode wire_get_rcode(std::span<const std::uint8_t> wire) {
  if (wire.size() <= wire::kFlags2) return Rcode::kFormErr;  // not even a header
  return static_cast<Rcode>(wire[wire::kFlags2] & 0x0f);
}

}  // namespace dp::dns
