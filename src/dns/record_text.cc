#include "dns/record_text.h"

#include <string>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"

namespace dp::dns {
namespace {

using RrPtr = CPtr<ldns_rr, ldns_rr_free>;
using RdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;
using BufferPtr = CPtr<ldns_buffer, ldns_buffer_free>;

constexpr std::uint16_t kTypeOpt = 41;         // RFC 6891: a pseudo-record, never data
constexpr std::uint16_t kFirstMetaType = 128;  // RFC 6895 §3.1: 128-255 are QTYPEs and meta
constexpr std::uint16_t kLastMetaType = 255;

std::string type_name(std::uint16_t type) {
  char* text = ldns_rr_type2str(static_cast<ldns_rr_type>(type));
  std::string out = text != nullptr ? text : std::to_string(type);
  std::free(text);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
  return out;
}

}  // namespace

Result<RecordText, std::string> record_text_parse(std::string_view line,
                                                  std::uint32_t default_ttl) {
  const std::string text(line);
  // Relative names are made absolute against the root: "printer.lan" means "printer.lan.".
  const RdfPtr origin(ldns_dname_new_frm_str("."));
  ldns_rr* raw = nullptr;
  const ldns_status status =
      ldns_rr_new_frm_str(&raw, text.c_str(), default_ttl, origin.get(), nullptr);
  const RrPtr rr(raw);
  if (status != LDNS_STATUS_OK) return unexpected(std::string(ldns_get_errorstr_by_id(status)));
  if (rr == nullptr || ldns_rr_owner(rr.get()) == nullptr)
    return unexpected(std::string("no owner name"));
  const auto type = static_cast<std::uint16_t>(ldns_rr_get_type(rr.get()));
  if (type == kTypeOpt || (type >= kFirstMetaType && type <= kLastMetaType))
    return unexpected("type " + type_name(type) + " cannot be data");
  if (ldns_rr_get_class(rr.get()) != LDNS_RR_CLASS_IN) {
    char* cls = ldns_rr_class2str(ldns_rr_get_class(rr.get()));
    std::string name = cls != nullptr ? cls : "?";
    std::free(cls);  // NOLINT(cppcoreguidelines-no-malloc): ldns allocates with malloc
    return unexpected("class " + name + ": only IN");
  }
  if (ldns_rr_rd_count(rr.get()) == 0) return unexpected(std::string("no RDATA"));

  const BufferPtr buffer(ldns_buffer_new(LDNS_MAX_PACKETLEN));
  if (buffer == nullptr) return unexpected(std::string("out of memory"));
  if (ldns_rdf2buffer_wire(buffer.get(), ldns_rr_owner(rr.get())) != LDNS_STATUS_OK)
    return unexpected(std::string("owner name does not fit"));
  RecordText out;
  const auto* bytes = ldns_buffer_begin(buffer.get());
  out.owner.assign(reinterpret_cast<const char*>(bytes), ldns_buffer_position(buffer.get()));
  for (char& c : out.owner) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');  // length bytes (<= 63) stay
  }
  ldns_buffer_clear(buffer.get());
  const ldns_status rdata_status = ldns_rr_rdata2buffer_wire(buffer.get(), rr.get());
  if (rdata_status != LDNS_STATUS_OK)
    return unexpected(std::string(ldns_get_errorstr_by_id(rdata_status)));
  if (ldns_buffer_position(buffer.get()) > 0xffff) return unexpected(std::string("RDATA too long"));
  out.rdata.assign(bytes, bytes + ldns_buffer_position(buffer.get()));
  out.type = type;
  out.ttl = ldns_rr_ttl(rr.get());
  return out;
}

}  // namespace dp::dns
