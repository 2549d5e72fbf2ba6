// ldns's check of every record in a message, one record at a time, each where our own walk
// (dns/wire.h) says it lies. ldns_wire2pkt is not used: its RDATA parser may read past a
// record's RDLENGTH, then sees records that are not there, and leaks all but the last TSIG it
// sees: a few hundred bytes per hostile message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace dp::dns {

// The one question, as ldns read it.
struct CheckedQuestion {
  std::string name;  // uncompressed wire form, in the case sent
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

// nullopt unless QDCOUNT is 1 and ldns parses the question and every record the header
// counts, each ending exactly where its RDLENGTH says. Bytes after the last record are
// allowed, as ldns_wire2pkt allows them.
std::optional<CheckedQuestion> records_check(std::span<const std::uint8_t> wire);

// The second half of records_check: every record after the question, as above, for a caller
// that has checked the question itself (an answer whose question is the one we sent). The
// commonest records (A, AAAA, a root OPT, owned by a plain name or a pointer to the question)
// are judged without ldns, as ldns judges them; every other record goes to ldns.
bool section_records_check(std::span<const std::uint8_t> wire);
// The same with ldns reading every record: what records_check uses, and what the tests
// compare section_records_check with.
bool section_records_check_ldns(std::span<const std::uint8_t> wire);

}  // namespace dp::dns
