// The NSEC3 half of the denial proofs (RFC 5155 §8): names hashed under a budget, the closest
// encloser proof, and the four proofs of denial.h for a zone that denies with NSEC3.
#pragma once

#include <cstdint>
#include <string_view>

#include "dnssec/denial.h"
#include "dnssec/denial_records.h"

namespace dp::dnssec::denial_detail {

// As nxdomain_prove, nodata_prove, wildcard_answer_prove and ds_absence_prove (denial.h), once
// denial.cc has checked the names and found `denials` to hold NSEC3 records of `zone` (and no
// NSEC), their iterations within options.max_nsec3_iterations. Each call hashes at most
// options.max_nsec3_hashes names.
[[nodiscard]] DenialVerdict nsec3_nxdomain(std::string_view qname, std::string_view zone,
                                           const Denials& denials,
                                           const ValidationOptions& options);
[[nodiscard]] DenialVerdict nsec3_nodata(std::string_view qname, std::uint16_t qtype,
                                         std::string_view zone, const Denials& denials,
                                         const ValidationOptions& options);
[[nodiscard]] DenialVerdict nsec3_wildcard_answer(std::string_view qname,
                                                  std::string_view closest_encloser,
                                                  std::string_view zone, const Denials& denials,
                                                  const ValidationOptions& options);
[[nodiscard]] DenialVerdict nsec3_ds_absence(std::string_view name, std::string_view zone,
                                             const Denials& denials,
                                             const ValidationOptions& options);

}  // namespace dp::dnssec::denial_detail
