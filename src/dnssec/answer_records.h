// An upstream answer as the validator reads it: header and question as they came, every
// record of the three sections with its names decompressed (records.h's Rr), and the OPT RR's
// bytes. Written back, with or without the DNSSEC records and with the AD bit we decide, as the
// answer the cache stores (RFC 4035 §3.2.1: RRSIG, NSEC, NSEC3 only for DO=1 clients).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dnssec/records.h"

namespace dp::dnssec {

struct AnswerRecords {
  Bytes header;       // the 12 bytes as they came
  Bytes question;     // name (uncompressed, as sent), type, class
  std::string qname;  // the question's name, lowercased wire form
  std::uint16_t qtype = 0;
  std::uint8_t rcode = 0;  // header rcode
  std::vector<Rr> answer;
  std::vector<Rr> authority;
  std::vector<Rr> additional;  // without the OPT
  Bytes opt;                   // the whole OPT RR as it came; empty without one
};

// Nullopt when the message is not one question and readable records (the upstream layer has
// checked that already; a fuzzer has not). A TSIG is dropped: it never reaches a client.
std::optional<AnswerRecords> answer_records_parse(std::span<const std::uint8_t> wire);

// Writes the message back into `out`, owner names compressed against the question's and
// earlier owners' (byte for byte; names in RDATA whole): every record, or (keep_dnssec false)
// none of type RRSIG, NSEC or NSEC3 unless the question asks for that type; AD as `ad` says.
// False when the result would not fit a DNS message (65535 bytes).
bool answer_records_write(const AnswerRecords& records, bool keep_dnssec, bool ad,
                          std::vector<std::uint8_t>& out);

// True for RRSIG, NSEC and NSEC3: what a DO=0 client is not sent (RFC 4035 §3.2.1).
bool type_is_dnssec(std::uint16_t type);

}  // namespace dp::dnssec
