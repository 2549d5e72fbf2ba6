// Keys and signatures made with ldns at test time, for the validator's tests and benches: a
// zone key of any algorithm ldns makes, its DNSKEY and DS, and RRSIGs with fixed times around a
// fixed `kNow`. ldns signs with its own canonical form, so our canonical form is checked
// against an implementation that is not ours.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/c_ptr.h"
#include "dns/ldns_include.h"
#include "dnssec/records.h"

namespace dp::dnssec::testing {

inline constexpr std::uint32_t kNow = 1'750'000'000;  // June 2025: never read from a clock
inline constexpr std::uint32_t kDay = 86'400;
inline constexpr std::uint32_t kInception = kNow - kDay;
inline constexpr std::uint32_t kExpiration = kNow + 30 * kDay;

using LdnsRrPtr = CPtr<ldns_rr, ldns_rr_free>;
using LdnsRrListPtr = CPtr<ldns_rr_list, ldns_rr_list_deep_free>;
using LdnsKeyPtr = CPtr<ldns_key, ldns_key_deep_free>;
using LdnsBufferPtr = CPtr<ldns_buffer, ldns_buffer_free>;
using LdnsRdfPtr = CPtr<ldns_rdf, ldns_rdf_deep_free>;

inline LdnsRdfPtr dname_new(std::string_view text) {
  LdnsRdfPtr rdf(ldns_dname_new_frm_str(std::string(text).c_str()));
  if (!rdf) throw std::runtime_error("bad name " + std::string(text));
  return rdf;
}

// "www.example.com." as wire form, case kept.
inline std::string name_wire(std::string_view text) {
  const LdnsRdfPtr rdf = dname_new(text);
  return {reinterpret_cast<const char*>(ldns_rdf_data(rdf.get())), ldns_rdf_size(rdf.get())};
}

inline Rr rr_from_ldns(const ldns_rr* rr) {
  Rr out;
  const ldns_rdf* owner = ldns_rr_owner(rr);
  out.owner.assign(reinterpret_cast<const char*>(ldns_rdf_data(owner)), ldns_rdf_size(owner));
  out.type = ldns_rr_get_type(rr);
  out.rclass = ldns_rr_get_class(rr);
  out.ttl = ldns_rr_ttl(rr);
  const LdnsBufferPtr buffer(ldns_buffer_new(512));
  if (ldns_rr_rdata2buffer_wire(buffer.get(), rr) != LDNS_STATUS_OK) {
    throw std::runtime_error("rdata2buffer");
  }
  const std::uint8_t* data = ldns_buffer_begin(buffer.get());
  out.rdata.assign(data, data + ldns_buffer_position(buffer.get()));
  return out;
}

inline LdnsRrPtr rr_to_ldns(const Rr& rr) {
  Bytes wire(rr.owner.begin(), rr.owner.end());
  const std::uint8_t fixed[] = {
      static_cast<std::uint8_t>(rr.type >> 8),         static_cast<std::uint8_t>(rr.type),
      static_cast<std::uint8_t>(rr.rclass >> 8),       static_cast<std::uint8_t>(rr.rclass),
      static_cast<std::uint8_t>(rr.ttl >> 24),         static_cast<std::uint8_t>(rr.ttl >> 16),
      static_cast<std::uint8_t>(rr.ttl >> 8),          static_cast<std::uint8_t>(rr.ttl),
      static_cast<std::uint8_t>(rr.rdata.size() >> 8), static_cast<std::uint8_t>(rr.rdata.size())};
  wire.insert(wire.end(), std::begin(fixed), std::end(fixed));
  wire.insert(wire.end(), rr.rdata.begin(), rr.rdata.end());
  ldns_rr* out = nullptr;
  std::size_t pos = 0;
  if (ldns_wire2rr(&out, wire.data(), wire.size(), &pos, LDNS_SECTION_ANSWER) != LDNS_STATUS_OK) {
    throw std::runtime_error("wire2rr");
  }
  return LdnsRrPtr(out);
}

// "www.example. 300 IN A 192.0.2.1" as our Rr.
inline Rr rr_parse(const std::string& text) {
  ldns_rr* rr = nullptr;
  if (ldns_rr_new_frm_str(&rr, text.c_str(), 3600, nullptr, nullptr) != LDNS_STATUS_OK) {
    throw std::runtime_error("bad record " + text);
  }
  const LdnsRrPtr owned(rr);
  return rr_from_ldns(owned.get());
}

inline LdnsRrListPtr rr_list_to_ldns(const std::vector<Rr>& rrset) {
  LdnsRrListPtr list(ldns_rr_list_new());
  for (const Rr& rr : rrset) ldns_rr_list_push_rr(list.get(), rr_to_ldns(rr).release());
  return list;
}

// A zone's signing key made by ldns.
class TestKey {
 public:
  // `bits` only for RSA (ldns ignores it for the others). Flags 257: zone key and SEP (a KSK).
  TestKey(std::string_view zone, ldns_signing_algorithm algorithm, std::uint16_t flags = 257,
          std::uint16_t bits = 1024)
      : key_(ldns_key_new_frm_algorithm(algorithm, bits)) {
    if (!key_) throw std::runtime_error("ldns cannot make a key of this algorithm");
    ldns_key_set_pubkey_owner(key_.get(), dname_new(zone).release());
    ldns_key_set_flags(key_.get(), flags);
    ldns_key_set_inception(key_.get(), kInception);
    ldns_key_set_expiration(key_.get(), kExpiration);
    const LdnsRrPtr rr(ldns_key2rr(key_.get()));
    ldns_key_set_keytag(key_.get(), ldns_calc_keytag(rr.get()));
  }

  ldns_key* get() const { return key_.get(); }

  Rr dnskey(std::uint32_t ttl = 3600) const {
    const LdnsRrPtr rr(ldns_key2rr(key_.get()));
    ldns_rr_set_ttl(rr.get(), ttl);
    return rr_from_ldns(rr.get());
  }
  Dnskey parsed() const { return *dnskey_parse(dnskey().rdata); }
  std::uint16_t key_tag() const { return ldns_key_keytag(key_.get()); }

  // The DS ldns makes for this key (LDNS_SHA1, LDNS_SHA256, LDNS_SHA384).
  Ds ds(ldns_hash hash) const {
    const LdnsRrPtr key_rr(ldns_key2rr(key_.get()));
    const LdnsRrPtr ds_rr(ldns_key_rr2ds(key_rr.get(), hash));
    return *ds_parse(rr_from_ldns(ds_rr.get()).rdata);
  }

  // The RRSIG ldns_sign_public makes over `rrset`, valid kInception .. kExpiration.
  Rr sign(const std::vector<Rr>& rrset) const {
    const LdnsRrListPtr list = rr_list_to_ldns(rrset);
    CPtr<ldns_key_list, ldns_key_list_free> keys(ldns_key_list_new());
    ldns_key_list_push_key(keys.get(), key_.get());
    const LdnsRrListPtr sigs(ldns_sign_public(list.get(), keys.get()));
    // The list would deep-free the key it holds. Not ldns_key_list_pop_key: popping the last
    // key reallocs the array to 0 bytes (freeing it) and keeps the old pointer, which
    // ldns_key_list_free then frees again.
    ldns_key_list_set_key_count(keys.get(), 0);
    if (!sigs || ldns_rr_list_rr_count(sigs.get()) != 1) throw std::runtime_error("sign_public");
    return rr_from_ldns(ldns_rr_list_rr(sigs.get(), 0));
  }

  // An RRSIG whose fields `edit` changes (ldns_rr_rrsig_set_*) before ldns signs: the
  // signature is good for whatever the fields say. Signed over ldns's canonical form, as
  // ldns_sign_public does.
  Rr sign_edited(const std::vector<Rr>& rrset, const std::function<void(ldns_rr*)>& edit) const {
    const LdnsRrListPtr list = rr_list_to_ldns(rrset);
    const std::uint32_t ttl = ldns_rr_ttl(ldns_rr_list_rr(list.get(), 0));
    for (std::size_t i = 0; i < ldns_rr_list_rr_count(list.get()); ++i) {
      ldns_rr_set_ttl(ldns_rr_list_rr(list.get(), i), ttl);
      ldns_rr2canonical(ldns_rr_list_rr(list.get(), i));
    }
    ldns_rr_list_sort(list.get());
    const LdnsRrPtr sig(ldns_create_empty_rrsig(list.get(), key_.get()));
    edit(sig.get());
    const LdnsBufferPtr buffer(ldns_buffer_new(LDNS_MAX_PACKETLEN));
    if (ldns_rrsig2buffer_wire(buffer.get(), sig.get()) != LDNS_STATUS_OK ||
        ldns_rr_list2buffer_wire(buffer.get(), list.get()) != LDNS_STATUS_OK) {
      throw std::runtime_error("rrsig2buffer");
    }
    ldns_rdf* signature = ldns_sign_public_buffer(buffer.get(), key_.get());
    if (signature == nullptr) throw std::runtime_error("sign_public_buffer");
    if (!ldns_rr_rrsig_set_sig(sig.get(), signature)) throw std::runtime_error("set_sig");
    return rr_from_ldns(sig.get());
  }

 private:
  LdnsKeyPtr key_;
};

inline ldns_rdf* u32_rdf(std::uint32_t v) { return ldns_native2rdf_int32(LDNS_RDF_TYPE_TIME, v); }
inline ldns_rdf* u8_rdf(std::uint8_t v) { return ldns_native2rdf_int8(LDNS_RDF_TYPE_INT8, v); }

// A DNSKEY RDATA that is no key of ours but has key tag `tag` and algorithm `algorithm`: random
// public key bytes, the last two chosen to hit the tag (KeyTrap's colliding keys).
inline Dnskey key_forge_with_tag(std::uint16_t tag, std::uint8_t algorithm, std::size_t key_size,
                                 std::uint32_t seed) {
  std::mt19937 random(seed);
  Bytes rdata = {1, 1, 3, algorithm};  // flags 257, protocol 3
  for (std::size_t i = 0; i < key_size; ++i) rdata.push_back(static_cast<std::uint8_t>(random()));
  for (std::uint32_t last = 0; last < 0x10000; ++last) {
    rdata[rdata.size() - 2] = static_cast<std::uint8_t>(last >> 8);
    rdata[rdata.size() - 1] = static_cast<std::uint8_t>(last);
    if (key_tag_compute(rdata) == tag) return *dnskey_parse(rdata);
  }
  throw std::runtime_error("no key with that tag");
}

}  // namespace dp::dnssec::testing
