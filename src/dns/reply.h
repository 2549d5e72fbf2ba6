// Every reply dotproxy writes to a client for a query it does not answer as the authority:
// rejections and error replies, the TC=1 slip, and a stored upstream answer rebuilt for each
// client (its ID, question case, EDNS, TTLs aged, truncation to its UDP size).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "dns/message.h"
#include "dns/stored_answer.h"

namespace dp::dns {

// RFC 8914 Extended DNS Error codes that dotproxy emits.
enum class Ede : std::uint16_t {
  kStaleAnswer = 3,
  kBlocked = 15,
  kProhibited = 18,
  kNoReachableAuthority = 22,
  kNetworkError = 23,
};

// The reply to a rejected query, built from its raw bytes: ID, opcode and RD copied, the
// question echoed when it parses, an OPT RR when the query had a usable one (always for
// BADVERS). Empty when the query must be dropped (kTooShort, kIsResponse).
std::vector<std::uint8_t> reply_for_rejection(std::span<const std::uint8_t> query_wire,
                                              QueryError error);

// A reply with `rcode` and no records for a valid query, with an EDE option when the client
// sent EDNS and `ede` is set.
std::vector<std::uint8_t> reply_error(const Query& query, Rcode rcode,
                                      std::optional<Ede> ede = std::nullopt);

// An EDE option (RFC 8914 §2) as a whole TLV: `info_code` and `extra_text` (UTF-8, for
// people; cut to kEdeTextMax bytes), for StoredAnswer::ede_options.
inline constexpr std::size_t kEdeTextMax = 200;
std::vector<std::uint8_t> ede_option_build(std::uint16_t info_code, std::string_view extra_text);

// An empty NOERROR reply with TC=1 (RFC 7766 §5: retry over TCP), for rate-limit slips.
std::vector<std::uint8_t> reply_truncated(const Query& query);

// What a reply built from a stored answer looks like for one client.
struct ReplyShape {
  std::uint32_t age_seconds = 0;           // subtracted from every TTL, never below 0
  bool stale = false;                      // RFC 8767: TTL 30 and EDE 3 Stale Answer
  std::size_t max_size = kMaxMessageSize;  // over it: header + question + OPT, TC=1
};

inline constexpr std::uint32_t kStaleTtl = 30;  // RFC 8767 §4: TTL of a stale answer

// Writes the reply to `query` into `out` (replacing its contents; its capacity is reused):
// the stored answer's flags (AA already cleared, dns/stored_answer.h), the client's ID, RD and
// question bytes (0x20 case kept), TTLs lowered by the age, our OPT when the client sent EDNS
// (its DO bit, RFC 3225 §3; the upstream's extended rcode and EDE options), no OPT otherwise
// (an extended rcode then becomes SERVFAIL, RFC 6891 §6.1.3), cut to max_size; AD kept only for
// a client that set DO or AD (RFC 6840 §5.8). A view whose question differs in length from the
// client's gets SERVFAIL.
void reply_build(const AnswerView& answer, const Query& query, const ReplyShape& shape,
                 std::vector<std::uint8_t>& out);

}  // namespace dp::dns
