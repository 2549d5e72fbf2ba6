#include "zones/hosts_file.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "zones/route_table.h"

namespace dp::zones {
namespace {

using dns::kTypeA;
using dns::kTypeAaaa;
using dns::kTypePtr;

// Letters, digits, '-' and '_', labels of 1..63 bytes, at most 253 characters: what a hosts
// file names (RFC 952/1123 host names, with '_' as found in the wild). A trailing dot is fine.
bool host_name_valid(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

// 4 or 16 bytes, or empty if `text` is neither an IPv4 nor an IPv6 literal. An IPv6 scope
// ("fe80::1%eth0") is dropped: DNS has no room for it.
std::vector<std::uint8_t> address_parse(std::string_view text) {
  std::string ip(text.substr(0, text.find('%')));
  std::uint8_t bytes[16] = {};
  if (inet_pton(AF_INET, ip.c_str(), bytes) == 1) return {bytes, bytes + 4};
  if (inet_pton(AF_INET6, ip.c_str(), bytes) == 1) return {bytes, bytes + 16};
  return {};
}

}  // namespace

std::string reverse_name_wire(const std::vector<std::uint8_t>& address) {
  std::string text;
  constexpr char kHex[] = "0123456789abcdef";
  if (address.size() == 4) {
    for (std::size_t i = 4; i-- > 0;) text += std::to_string(address[i]) + ".";
    text += "in-addr.arpa";
  } else {
    for (std::size_t i = address.size(); i-- > 0;) {
      text += kHex[address[i] & 0x0f];
      text += '.';
      text += kHex[address[i] >> 4];
      text += '.';
    }
    text += "ip6.arpa";
  }
  return name_text_to_wire(text);
}

Result<std::vector<HostsRecord>, std::string> hosts_parse(std::string_view text,
                                                          std::string_view file) {
  std::vector<HostsRecord> out;
  std::vector<std::vector<std::uint8_t>> addresses_seen;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const std::size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    line = line.substr(0, line.find('#'));
    std::vector<std::string_view> fields;
    for (std::size_t pos = 0; pos < line.size();) {
      if (line[pos] == ' ' || line[pos] == '\t' || line[pos] == '\r') {
        ++pos;
        continue;
      }
      const std::size_t stop = std::min(line.find_first_of(" \t\r", pos), line.size());
      fields.push_back(line.substr(pos, stop - pos));
      pos = stop;
    }
    if (fields.empty()) continue;
    const std::string where = std::string(file) + ":" + std::to_string(line_number);
    const std::vector<std::uint8_t> address = address_parse(fields[0]);
    if (address.empty())
      return unexpected(where + ": '" + std::string(fields[0]) + "' is not an IP address");
    if (fields.size() < 2)
      return unexpected(where + ": '" + std::string(fields[0]) + "' has no host name after it");
    for (std::size_t i = 1; i < fields.size(); ++i) {
      if (!host_name_valid(fields[i]))
        return unexpected(where + ": '" + std::string(fields[i]) +
                          "' is not a host name (letters, digits, '-', '_', '.')");
      dns::RecordText record;
      record.owner = name_text_to_wire(fields[i]);
      record.type = address.size() == 4 ? kTypeA : kTypeAaaa;
      record.ttl = dns::kDefaultRecordTtl;
      record.rdata = address;
      out.push_back(HostsRecord{std::move(record), where});
    }
    // The first name of the line is the canonical one (hosts(5)); an address's first line wins.
    if (std::find(addresses_seen.begin(), addresses_seen.end(), address) == addresses_seen.end()) {
      addresses_seen.push_back(address);
      dns::RecordText ptr;
      ptr.owner = reverse_name_wire(address);
      ptr.type = kTypePtr;
      ptr.ttl = dns::kDefaultRecordTtl;
      const std::string target = name_text_to_wire(fields[1]);
      ptr.rdata.assign(target.begin(), target.end());
      out.push_back(HostsRecord{std::move(ptr), where});
    }
  }
  return out;
}

Result<std::vector<HostsRecord>, std::string> hosts_file_read(const std::string& path) {
  const std::string where = "hosts: cannot read '" + path + "': ";
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return unexpected(where + "is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) return unexpected(where + std::strerror(errno));
  std::ostringstream contents;
  contents << in.rdbuf();
  return hosts_parse(contents.str(), path);
}

}  // namespace dp::zones
