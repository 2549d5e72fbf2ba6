// hosts(5) files as local data: "ADDRESS NAME [ALIAS...]" lines, '#' comments. Each name gets
// the address (A or AAAA), each address a PTR to its line's first name, as glibc's files
// backend answers gethostbyaddr.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dns/record_text.h"

namespace dp::zones {

// A record from a hosts file, with the line it came from ("/etc/hosts:12") for errors.
struct HostsRecord {
  dns::RecordText record;
  std::string where;
};

// The records of one file's text, all with TTL dns::kDefaultRecordTtl; an address seen again
// on a later line gets no second PTR. Errors: "FILE:LINE: reason" for the first bad line (an
// address that is not an IPv4 or IPv6 literal, an address without names, a bad name).
Result<std::vector<HostsRecord>, std::string> hosts_parse(std::string_view text,
                                                          std::string_view file);

// hosts_parse() of a file's contents. "hosts: cannot read 'FILE': reason" if unreadable.
Result<std::vector<HostsRecord>, std::string> hosts_file_read(const std::string& path);

// The PTR owner of an address as the reverse tree spells it (RFC 1035 §3.5, RFC 3596 §2.5):
// "5.0.0.10.in-addr.arpa" for 10.0.0.5, 32 nibbles then "ip6.arpa" for IPv6; wire form.
// `address` is 4 or 16 bytes.
std::string reverse_name_wire(const std::vector<std::uint8_t>& address);

}  // namespace dp::zones
