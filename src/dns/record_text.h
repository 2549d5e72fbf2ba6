// One resource record in presentation format ("NAME [TTL] [IN] TYPE RDATA", RFC 1035 §5.1),
// read with ldns into wire-form parts: the --local-data lines.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace dp::dns {

inline constexpr std::uint32_t kDefaultRecordTtl = 3600;  // --local-data without a TTL

struct RecordText {
  std::string owner;  // uncompressed wire form, ASCII letters lowered; names are absolute
  std::uint16_t type = 0;
  std::uint32_t ttl = 0;
  std::vector<std::uint8_t> rdata;  // uncompressed wire form, as written (case kept)

  friend bool operator==(const RecordText&, const RecordText&) = default;
};

// Parses one line. Names without a trailing dot are taken as absolute; TTL `default_ttl`
// unless written; the class must be IN if written. Errors (one line of text): ldns's own
// message for what it cannot read, "no RDATA", "class CH: only IN", "type OPT cannot be data".
Result<RecordText, std::string> record_text_parse(std::string_view line,
                                                  std::uint32_t default_ttl = kDefaultRecordTtl);

}  // namespace dp::dns
