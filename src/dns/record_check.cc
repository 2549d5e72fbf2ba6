#include "dns/record_check.h"

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dns/message.h"
#include "dns/wire.h"

namespace dp::dns {
namespace {

using RrPtr = CPtr<ldns_rr, ldns_rr_free>;

// ldns's parse of the record at `pos` in `section`, which must end at `end`.
RrPtr record_read(std::span<const std::uint8_t> wire, std::size_t pos, std::size_t end,
                  ldns_pkt_section section) {
  ldns_rr* raw = nullptr;
  std::size_t at = pos;
  const ldns_status status = ldns_wire2rr(&raw, wire.data(), wire.size(), &at, section);
  RrPtr rr(status == LDNS_STATUS_OK ? raw : nullptr);  // on failure ldns freed it
  if (rr && at != end) rr.reset();  // read past (or short of) the record: not what it says
  return rr;
}

constexpr std::size_t kRrFixedSize = 10;    // TYPE CLASS TTL RDLENGTH after the owner
constexpr std::size_t kPlainNameMax = 200;  // well inside ldns's 255-byte limit: no edge cases
constexpr std::uint8_t kPointerToQuestion[] = {0xc0, kHeaderSize};

// Whether `wire` holds a name of plain labels at `pos` ending at `end`.
bool plain_name(std::span<const std::uint8_t> wire, std::size_t pos, std::size_t end) {
  bool compressed = false;
  const auto after = wire::skip_name(wire, pos, &compressed);
  return after && *after == end && !compressed && end - pos <= kPlainNameMax;
}

// True when ldns 1.8 is known to read this record without error to its end (measured: A and
// AAAA with zero or full-length RDATA, OPT with any RDATA); false: ask ldns.
bool record_known_good(std::span<const std::uint8_t> wire, const wire::RrView& rr,
                       bool question_plain) {
  const std::size_t owner_end = rr.rdata - kRrFixedSize;
  if (rr.type == wire::kTypeOpt) return owner_end == rr.start + 1 && wire[rr.start] == 0;
  if (!(rr.type == kTypeA && rr.rdlength == 4) && !(rr.type == kTypeAaaa && rr.rdlength == 16)) {
    return false;
  }
  if (owner_end == rr.start + 2 && wire[rr.start] == kPointerToQuestion[0] &&
      wire[rr.start + 1] == kPointerToQuestion[1]) {
    return question_plain;
  }
  return plain_name(wire, rr.start, owner_end);
}

bool records_read(std::span<const std::uint8_t> wire, bool fast) {
  bool question_plain = false;
  if (fast) {
    const auto after_name = wire::skip_name(wire, kHeaderSize);
    question_plain = after_name && plain_name(wire, kHeaderSize, *after_name);
  }
  bool all_read = true;
  const ldns_pkt_section sections[] = {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
                                       LDNS_SECTION_ADDITIONAL};
  const bool walked = wire::for_each_rr(wire, [&](wire::Section section, const wire::RrView& rr) {
    if (!all_read || (fast && record_known_good(wire, rr, question_plain))) return;
    all_read = record_read(wire, rr.start, rr.end, sections[static_cast<int>(section)]) != nullptr;
  });
  return walked && all_read;
}

}  // namespace

std::optional<CheckedQuestion> records_check(std::span<const std::uint8_t> wire) {
  if (wire.size() < kHeaderSize || wire::read_u16(wire, wire::kQdCount) != 1) return std::nullopt;
  const auto after_name = wire::skip_name(wire, kHeaderSize);
  if (!after_name || *after_name + 4 > wire.size()) return std::nullopt;
  const RrPtr question = record_read(wire, kHeaderSize, *after_name + 4, LDNS_SECTION_QUESTION);
  const ldns_rdf* owner = question ? ldns_rr_owner(question.get()) : nullptr;
  if (owner == nullptr || ldns_rdf_size(owner) == 0) return std::nullopt;
  if (!section_records_check_ldns(wire)) return std::nullopt;

  CheckedQuestion checked;
  const auto* name = ldns_rdf_data(owner);
  checked.name.assign(name, name + ldns_rdf_size(owner));
  checked.qtype = static_cast<std::uint16_t>(ldns_rr_get_type(question.get()));
  checked.qclass = static_cast<std::uint16_t>(ldns_rr_get_class(question.get()));
  return checked;
}

bool section_records_check(std::span<const std::uint8_t> wire) {
  return records_read(wire, /*fast=*/true);
}

bool section_records_check_ldns(std::span<const std::uint8_t> wire) {
  return records_read(wire, /*fast=*/false);
}

}  // namespace dp::dns
