#include "dnssec/trust_anchor.h"

#include <algorithm>
#include <cstdlib>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::dnssec {
namespace {

using RrPtr = CPtr<ldns_rr, ldns_rr_free>;
using RdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;
using BufferPtr = CPtr<ldns_buffer, ldns_buffer_free>;

// The root zone's KSKs as IANA publishes them (https://data.iana.org/root-anchors/).
constexpr std::string_view kRootDs =
    ". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n"
    ". IN DS 38696 8 2 683D2D0ACB8C9B712A1948B27F741219298D0A450D612C483AF444A4C0FB2B16\n";

TrustAnchor& anchor_at(std::vector<TrustAnchor>& anchors, const std::string& owner) {
  const auto found = std::find_if(anchors.begin(), anchors.end(),
                                  [&](const TrustAnchor& a) { return a.owner == owner; });
  if (found != anchors.end()) return *found;
  anchors.push_back(TrustAnchor{owner, {}, {}});
  return anchors.back();
}

}  // namespace

std::vector<TrustAnchor> trust_anchors_builtin() {
  auto parsed = trust_anchors_parse(kRootDs);
  return parsed ? std::move(*parsed) : std::vector<TrustAnchor>{};
}

Result<std::vector<TrustAnchor>, std::string> trust_anchors_parse(std::string_view text) {
  std::vector<TrustAnchor> anchors;
  std::uint32_t default_ttl = 3600;
  RdfPtr origin(ldns_dname_new_frm_str("."));
  const BufferPtr buffer(ldns_buffer_new(512));
  std::size_t line_number = 0;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find('\n', start), text.size());
    std::string line(text.substr(start, end - start));
    start = end + 1;
    ++line_number;
    const auto error = [&](const std::string& why) {
      return unexpected("line " + std::to_string(line_number) + ": " + why);
    };
    const std::size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == ';') continue;
    if (line.compare(first, 4, "$TTL") == 0) {
      default_ttl = static_cast<std::uint32_t>(std::strtoul(line.c_str() + first + 4, nullptr, 10));
      continue;
    }
    if (line.compare(first, 7, "$ORIGIN") == 0) {
      std::string name = line.substr(first + 7);
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t\r") + 1);
      RdfPtr next(ldns_dname_new_frm_str(name.c_str()));
      if (!next) return error("bad $ORIGIN");
      origin = std::move(next);
      continue;
    }
    ldns_rr* raw = nullptr;
    const ldns_status status =
        ldns_rr_new_frm_str(&raw, line.c_str(), default_ttl, origin.get(), nullptr);
    if (status != LDNS_STATUS_OK) return error(ldns_get_errorstr_by_id(status));
    const RrPtr rr(raw);
    const ldns_rr_type type = ldns_rr_get_type(rr.get());
    if (type != LDNS_RR_TYPE_DS && type != LDNS_RR_TYPE_DNSKEY) {
      return error("only DS and DNSKEY records can be trust anchors");
    }
    ldns_buffer_clear(buffer.get());
    if (ldns_rr_rdata2buffer_wire(buffer.get(), rr.get()) != LDNS_STATUS_OK) {
      return error("unreadable RDATA");
    }
    const std::span<const std::uint8_t> rdata(ldns_buffer_begin(buffer.get()),
                                              ldns_buffer_position(buffer.get()));
    const ldns_rdf* owner_rdf = ldns_rr_owner(rr.get());
    const std::string owner = name_lower(std::string_view(
        reinterpret_cast<const char*>(ldns_rdf_data(owner_rdf)), ldns_rdf_size(owner_rdf)));
    TrustAnchor& anchor = anchor_at(anchors, owner);
    if (type == LDNS_RR_TYPE_DS) {
      const auto ds = ds_parse(rdata);
      if (!ds) return error("malformed DS");
      anchor.ds.push_back(*ds);
    } else {
      const auto key = dnskey_parse(rdata);
      if (!key) return error("malformed DNSKEY");
      anchor.keys.push_back(*key);
    }
  }
  if (anchors.empty()) return unexpected(std::string("no DS or DNSKEY record"));
  return anchors;
}

std::string trust_anchors_describe(const std::vector<TrustAnchor>& anchors) {
  std::string out;
  for (const TrustAnchor& anchor : anchors) {
    if (!out.empty()) out += "; ";
    out += name_to_text(anchor.owner) + " ";
    out += anchor.ds.empty() ? std::to_string(anchor.keys.size()) + " DNSKEY"
                             : std::to_string(anchor.ds.size()) + " DS";
    out += " (tags";
    for (const Ds& ds : anchor.ds) out += " " + std::to_string(ds.key_tag);
    for (const Dnskey& key : anchor.keys) out += " " + std::to_string(key.key_tag);
    out += ")";
  }
  return out;
}

}  // namespace dp::dnssec
