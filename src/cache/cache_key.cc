#include "cache/cache_key.h"

namespace dp::cache {
namespace {

constexpr char kFlagDo = kKeyFlagDo;
constexpr char kFlagCd = kKeyFlagCd;

void append_u16(std::string& out, std::uint16_t value) {
  out.push_back(static_cast<char>(value >> 8));
  out.push_back(static_cast<char>(value & 0xff));
}

}  // namespace

void cache_key_build(const dns::Query& query, std::string& out, std::uint16_t route_tag) {
  out.clear();
  out.push_back(static_cast<char>((query.dnssec_ok ? kFlagDo : 0) | (query.cd ? kFlagCd : 0)));
  append_u16(out, route_tag);
  // The question section's own layout, so an entry compares it with its stored question.
  out.append(query.question.qname_lower);
  append_u16(out, query.question.qtype);
  append_u16(out, query.question.qclass);
}

}  // namespace dp::cache
