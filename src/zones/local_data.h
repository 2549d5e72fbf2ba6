// Records configured by the operator (--local-data, --hosts), answered here with AA=1 and never
// sent upstream. Exact names only; a type the name has no data for goes on as usual (like
// /etc/hosts, and Unbound's default "transparent" local zone).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dns/message.h"
#include "dns/record_text.h"

namespace dp::zones {

// Immutable once built; shared by all workers without locks, replaced as a whole on reload.
class LocalData {
 public:
  LocalData() = default;  // no data: answer() is always nullopt

  // The reply when the name has records of the asked type (every record for ANY; its CNAME
  // for any other type when it has one, RFC 1034 §3.6.2), class IN or ANY: the client's ID
  // and question bytes, QR AA RA set, RD and CD copied, the records (owner a pointer to the
  // question), our OPT (DO copied) when the client sent EDNS. Over `max_size`: header,
  // question and OPT with TC=1 (RFC 2181 §9). nullopt otherwise, the query then goes on as
  // usual. Does not allocate on a miss.
  // `in_local_zone`: the name lies in a zone answered here (a built-in local zone such as
  // home.arpa, which would deny the name with NXDOMAIN): a type the name has no data for
  // gets NODATA (NOERROR, AA, no records) instead of nullopt, as Unbound's static zones do.
  std::optional<std::vector<std::uint8_t>> answer(const dns::Query& query,
                                                  std::size_t max_size = dns::kMaxMessageSize,
                                                  bool in_local_zone = false) const;

  // True when `qname_lower` owns any record here, for a caller that must not deny the name
  // (NXDOMAIN from a local zone) while answering some of its types.
  bool name_has_data(std::string_view qname_lower) const;

  bool empty() const { return names_.empty(); }
  std::size_t record_count() const;

 private:
  friend Result<LocalData, std::string> local_data_build(
      const std::vector<std::string>& lines, const std::vector<std::string>& hosts_files);

  struct Record {
    std::uint16_t type = 0;
    std::uint32_t ttl = 0;
    std::vector<std::uint8_t> rdata;
  };
  struct Name {
    std::string owner;  // lowercase wire form
    std::vector<Record> records;
  };

  const Name* name_find(std::string_view qname_lower) const;
  // Adds one record; a copy of one already there is dropped. Error text without the source:
  // a CNAME beside other data (RFC 1034 §3.6.2, RFC 2181 §10.1).
  std::optional<std::string> record_add(const dns::RecordText& record);

  std::vector<Name> names_;  // sorted by owner
};

// The data of the --local-data lines (presentation format, dns::record_text_parse) and the
// hosts files (zones/hosts_file.h), read now. Errors, the first one only:
// "--local-data 'LINE': reason", "hosts: cannot read 'FILE': reason", "FILE:LINE: reason".
Result<LocalData, std::string> local_data_build(const std::vector<std::string>& lines,
                                                const std::vector<std::string>& hosts_files);

}  // namespace dp::zones
