#include "dnssec/records.h"

#include <algorithm>
#include <array>
#include <utility>

#include "common/ascii.h"
#include "dns/ldns_include.h"
#include "dnssec/signature_check.h"

namespace dp::dnssec {
namespace {

constexpr std::size_t kRrsigFixedSize = 18;  // type covered .. key tag (RFC 4034 §3.1)
constexpr std::size_t kNameMaxSize = 255;    // RFC 1035 §3.1
constexpr std::size_t kLabelMaxSize = 63;

std::uint16_t read_u16(std::span<const std::uint8_t> data, std::size_t at) {
  return static_cast<std::uint16_t>(data[at] << 8 | data[at + 1]);
}
std::uint32_t read_u32(std::span<const std::uint8_t> data, std::size_t at) {
  return static_cast<std::uint32_t>(data[at]) << 24 |
         static_cast<std::uint32_t>(data[at + 1]) << 16 |
         static_cast<std::uint32_t>(data[at + 2]) << 8 | data[at + 3];
}

// The size of the valid uncompressed name at the start of `data`; nullopt when there is none.
std::optional<std::size_t> name_size(std::span<const std::uint8_t> data) {
  std::size_t at = 0;
  while (at < data.size() && at < kNameMaxSize) {
    const std::size_t label = data[at];
    if (label == 0) return at + 1;
    if (label > kLabelMaxSize) return std::nullopt;  // a pointer or an unknown label type
    at += label + 1;
  }
  return std::nullopt;
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

}  // namespace

std::optional<Rrsig> rrsig_parse(std::span<const std::uint8_t> rdata) {
  if (rdata.size() < kRrsigFixedSize) return std::nullopt;
  const auto signer_size = name_size(rdata.subspan(kRrsigFixedSize));
  if (!signer_size || kRrsigFixedSize + *signer_size >= rdata.size()) return std::nullopt;
  Rrsig sig;
  sig.type_covered = read_u16(rdata, 0);
  sig.algorithm = rdata[2];
  sig.labels = rdata[3];
  sig.original_ttl = read_u32(rdata, 4);
  sig.expiration = read_u32(rdata, 8);
  sig.inception = read_u32(rdata, 12);
  sig.key_tag = read_u16(rdata, 16);
  const auto signer = rdata.subspan(kRrsigFixedSize, *signer_size);
  sig.signer.assign(signer.begin(), signer.end());
  sig.signature = rdata.subspan(kRrsigFixedSize + *signer_size);
  return sig;
}

std::optional<Dnskey> dnskey_parse(std::span<const std::uint8_t> rdata) {
  if (rdata.size() < 5) return std::nullopt;
  Dnskey key;
  key.flags = read_u16(rdata, 0);
  key.protocol = rdata[2];
  key.algorithm = rdata[3];
  key.key_tag = key_tag_compute(rdata);
  key.rdata.assign(rdata.begin(), rdata.end());
  return key;
}

bool dnskey_prepare(Dnskey& key) {
  if (key.rdata.size() < 5) {  // no key: not from dnskey_parse
    key.prepared.reset();
    return false;
  }
  if (key.prepared && key.prepared->prepared_from(key.algorithm, key.public_key())) return true;
  std::optional<PreparedKey> prepared = PreparedKey::make(key.algorithm, key.public_key());
  if (!prepared) {
    key.prepared.reset();
    return false;
  }
  key.prepared = std::make_shared<const PreparedKey>(std::move(*prepared));
  return true;
}

std::optional<Ds> ds_parse(std::span<const std::uint8_t> rdata) {
  if (rdata.size() < 5) return std::nullopt;
  Ds ds;
  ds.key_tag = read_u16(rdata, 0);
  ds.algorithm = rdata[2];
  ds.digest_type = rdata[3];
  ds.digest.assign(rdata.begin() + 4, rdata.end());
  return ds;
}

std::uint16_t key_tag_compute(std::span<const std::uint8_t> dnskey_rdata) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < dnskey_rdata.size(); ++i) {
    sum += (i & 1) != 0 ? dnskey_rdata[i] : static_cast<std::uint32_t>(dnskey_rdata[i]) << 8;
  }
  sum += (sum >> 16) & 0xffff;
  return static_cast<std::uint16_t>(sum & 0xffff);
}

bool digest_supported(std::uint8_t digest_type) {
  return digest_type == kDigestSha1 || digest_type == kDigestSha256 || digest_type == kDigestSha384;
}

bool ds_matches(const Ds& ds, std::string_view owner, const Dnskey& key) {
  if (ds.key_tag != key.key_tag || ds.algorithm != key.algorithm) return false;
  Bytes input;
  input.reserve(owner.size() + key.rdata.size());
  for (const char c : owner) input.push_back(static_cast<std::uint8_t>(ascii_lower(c)));
  input.insert(input.end(), key.rdata.begin(), key.rdata.end());
  std::array<unsigned char, LDNS_SHA384_DIGEST_LENGTH> digest{};
  std::size_t size = 0;
  const auto length = static_cast<unsigned int>(input.size());
  switch (ds.digest_type) {
    case kDigestSha1:
      ldns_sha1(input.data(), length, digest.data());
      size = LDNS_SHA1_DIGEST_LENGTH;
      break;
    case kDigestSha256:
      ldns_sha256(input.data(), length, digest.data());
      size = LDNS_SHA256_DIGEST_LENGTH;
      break;
    case kDigestSha384:
      ldns_sha384(input.data(), length, digest.data());
      size = LDNS_SHA384_DIGEST_LENGTH;
      break;
    default:
      return false;
  }
  return ds.digest.size() == size && std::equal(ds.digest.begin(), ds.digest.end(), digest.begin());
}

bool name_valid(std::string_view name) {
  const auto size = name_size(bytes_of(name));
  return size && *size == name.size();
}

std::size_t name_label_count(std::string_view name) {
  std::size_t count = 0;
  for (std::size_t at = 0; at < name.size() && name[at] != 0;
       at += static_cast<std::uint8_t>(name[at]) + 1) {
    ++count;
  }
  if (count > 0 && name.size() >= 2 && name[0] == 1 && name[1] == '*') --count;
  return count;
}

bool name_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

bool name_is_under(std::string_view name, std::string_view zone) {
  if (zone.size() > name.size()) return false;
  std::size_t at = 0;
  while (name.size() - at > zone.size()) at += static_cast<std::uint8_t>(name[at]) + 1;
  // Only a label boundary may start the zone: a suffix inside a label is not an ancestor.
  return name.size() - at == zone.size() && name_equal(name.substr(at), zone);
}

std::string_view name_suffix(std::string_view name, std::size_t labels) {
  std::size_t total = 0;
  for (std::size_t at = 0; at < name.size() && name[at] != 0;
       at += static_cast<std::uint8_t>(name[at]) + 1) {
    ++total;
  }
  std::size_t at = 0;
  for (std::size_t skip = total > labels ? total - labels : 0; skip > 0; --skip) {
    at += static_cast<std::uint8_t>(name[at]) + 1;
  }
  return name.substr(at);
}

std::string name_lower(std::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = ascii_lower(c);
  return lower;
}

std::string name_to_text(std::string_view name) {
  std::string text;
  for (std::size_t at = 0; at < name.size() && name[at] != 0;) {
    const std::size_t label = static_cast<std::uint8_t>(name[at]);
    text.append(name.substr(at + 1, label));
    text.push_back('.');
    at += label + 1;
  }
  return text.empty() ? "." : text;
}

}  // namespace dp::dnssec
