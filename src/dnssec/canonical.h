// The bytes an RRSIG signs (RFC 4034 §3.1.8.1): the RRSIG's own fields, then the RRset in
// canonical form (RFC 4034 §6) with names lowered, original TTL, RRs sorted, duplicates gone.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dnssec/records.h"

namespace dp::dnssec {

// Lowers the names inside `rdata` for the types RFC 4034 §6.2 item 3 lists, as RFC 6840 §5.1
// amends it (NSEC's next name keeps its case; HINFO carries no names). Other types are left
// as they are: RFC 3597 §7, unknown types have no names to lower.
// Fails (false) when `rdata` does not hold the names its type says it does.
bool rdata_canonicalize(std::uint16_t type, Bytes& rdata);

// Each RR's RDATA in canonical form, sorted as RFC 4034 §6.3 orders them, duplicates removed.
// Fails (nullopt) when an RR's RDATA is malformed for its type (rdata_canonicalize).
std::optional<std::vector<Bytes>> rrset_canonical_rdatas(std::span<const Rr> rrset);

// Writes into `out` what `rrsig` (parsed from `rrsig_rdata`) signs over the RRset with
// `owner`, `type`, `rclass` and the canonical `rdatas`: the RRSIG RDATA up to its signature
// with the signer lowered, then each RR with the owner lowered (or, when the RRSIG's labels
// are fewer than the owner's, "*." and the owner's rightmost labels: RFC 4035 §5.3.2) and the
// original TTL. Cannot fail: names and sizes were checked by the parsers.
void signed_data_build(std::span<const std::uint8_t> rrsig_rdata, const Rrsig& rrsig,
                       std::string_view owner, std::uint16_t type, std::uint16_t rclass,
                       const std::vector<Bytes>& rdatas, Bytes& out);

}  // namespace dp::dnssec
