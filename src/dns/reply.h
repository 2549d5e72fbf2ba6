// Replies dotproxy writes to clients: error replies, upstream answers rewritten for the
// client, and truncation to the client's UDP size.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "dns/message.h"

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

// An empty NOERROR reply with TC=1 (RFC 7766 §5: retry over TCP), for rate-limit slips.
std::vector<std::uint8_t> reply_truncated(const Query& query);

// The query sent upstream for `query`: ID 0 (the connection sets its own), RD=1, the client's
// CD, the lowercased qname, EDNS0 with the client's DO bit, padded to a multiple of 128 bytes
// (RFC 8467 §4.1). Never carries client EDNS options (they are hop-by-hop).
std::vector<std::uint8_t> upstream_query_build(const Query& query);
// The same into `out` (replacing its contents, reusing its room).
void upstream_query_build_into(const Query& query, std::vector<std::uint8_t>& out);

enum class AnswerError {
  kMalformed,         // ldns cannot parse it
  kNotResponse,       // QR=0 or opcode != QUERY
  kQuestionMismatch,  // not the question we asked (RFC 5452 §9.1)
};
const char* answer_error_name(AnswerError error);

// Checks an upstream answer against the question that was sent (the ID is matched by the
// caller). Errors: every AnswerError.
Result<void, AnswerError> answer_check(std::span<const std::uint8_t> answer, const Question& asked);

// Rewrites a checked upstream answer for the client: the client's ID, RD and question bytes;
// the upstream's OPT replaced by ours when the client sent EDNS (DO and extended rcode kept,
// EDE options kept, padding/keepalive/cookie options dropped), removed otherwise. When the
// result exceeds max_size, the reply is cut to header + question + OPT with TC=1.
std::vector<std::uint8_t> reply_from_answer(std::span<const std::uint8_t> answer,
                                            const Query& query, std::size_t max_size);

// The idle timeout an upstream announces in an RFC 7828 edns-tcp-keepalive option of its
// answer's OPT RR (0 means "close now"); nullopt when the answer carries none.
std::optional<std::chrono::milliseconds> answer_keepalive(std::span<const std::uint8_t> answer);

std::uint16_t wire_get_id(std::span<const std::uint8_t> wire);
void wire_set_id(std::span<std::uint8_t> wire, std::uint16_t id);
// Header rcode only (4 bits); kFormErr when `wire` is shorter than a header.
Rcode wire_get_rcode(std::span<const std::uint8_t> wire);

}  // namespace dp::dns
