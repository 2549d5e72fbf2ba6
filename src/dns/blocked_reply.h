// The reply to a query for a blocked name (DESIGN.md "blocked name"): NXDOMAIN, or the
// unspecified address, with EDE 15 "Blocked" (RFC 8914 §4.16) when the client sent EDNS.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "dns/message.h"

namespace dp::dns {

enum class BlockedAnswer {
  kNxDomain,  // NXDOMAIN, no records: the name does not exist for this client
  kNull,      // A 0.0.0.0 / AAAA ::, nothing for every other type (NODATA): some clients
              // retry other resolvers on NXDOMAIN, few do on an answer
};

inline constexpr std::uint32_t kBlockedTtl = 60;  // null answers: short, so an unblock shows soon

// "nxdomain" / "null": the --blocklist-answer values.
std::string_view blocked_answer_name(BlockedAnswer answer);
std::optional<BlockedAnswer> blocked_answer_parse(std::string_view text);

// The reply as reply_error builds it (client ID, question bytes with their 0x20 case, RD, CD,
// RA; our OPT with EDE 15 when the client sent EDNS), with AA set: dotproxy is the authority
// for what it blocks, as for its local zones (RFC 1035 §4.1.1). Rcode NXDOMAIN for kNxDomain;
// for kNull NOERROR plus, for qtype A or AAAA of class IN (or ANY), one record of the address
// owned by the question's name with TTL kBlockedTtl.
std::vector<std::uint8_t> reply_blocked(const Query& query, BlockedAnswer answer);

}  // namespace dp::dns
