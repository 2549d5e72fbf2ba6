// What the two halves of the denial proofs (denial.h) share: the usable NSEC and NSEC3 records
// of a zone, parsed (denial.cc holds the NSEC rules, denial_nsec3.cc the NSEC3 ones), and the
// verdicts and name helpers both build on. Internal to the proofs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dnssec/denial.h"
#include "dnssec/records.h"

namespace dp::dnssec::denial_detail {

inline DenialVerdict secure(DsAbsence absence = DsAbsence::kNotACut) {
  DenialVerdict out;
  out.verdict.status = Status::kSecure;
  out.ds_absence = absence;
  return out;
}

inline DenialVerdict fail(Status status, std::optional<Ede> ede, std::string reason) {
  DenialVerdict out;
  out.verdict.status = status;
  out.verdict.ede = ede;
  out.verdict.reason = std::move(reason);
  return out;
}

inline DenialVerdict bogus(Ede ede, std::string reason) {
  return fail(Status::kBogus, ede, std::move(reason));
}

inline std::size_t labels_of(std::string_view name) { return name_common_labels(name, name); }

inline bool name_strictly_under(std::string_view name, std::string_view ancestor) {
  return name_is_under(name, ancestor) && !name_equal(name, ancestor);
}

// "*.closest_encloser": the wildcard that would match names below it.
std::string wildcard_of(std::string_view closest_encloser);

struct NsecRecord {
  std::string_view owner;
  Nsec nsec;
  bool has(std::uint16_t type) const { return type_bitmap_has(nsec.types, type); }
};

struct Nsec3Record {
  Bytes owner_hash;
  Nsec3 nsec3;
  bool has(std::uint16_t type) const { return type_bitmap_has(nsec3.types, type); }
};

// The usable records of `zone` among the denials, parsed; they point into the RRs.
struct Denials {
  std::vector<NsecRecord> nsecs;
  std::vector<Nsec3Record> nsec3s;
  std::span<const std::uint8_t> salt;  // shared by all nsec3s
  std::uint16_t iterations = 0;
};

// Fails with EDE 6 on a malformed record of `zone` or NSEC3 parameters that differ.
std::optional<DenialVerdict> denials_collect(std::string_view zone, std::span<const Rr> rrs,
                                             Denials& out);

// Whether the types of existing `name` prove NODATA for `qtype`: nullopt when they do, else
// why not.
std::optional<DenialVerdict> bitmap_denies(bool has_qtype, bool has_cname, bool has_ns,
                                           bool has_soa, std::uint16_t qtype,
                                           std::string_view name);

}  // namespace dp::dnssec::denial_detail
