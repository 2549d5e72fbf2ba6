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

constexpr std::size_t kLabelsMax = 128;  // 255 bytes hold at most 127 labels and the root

// The offsets of a valid name's labels, leftmost first; returns how many.
std::size_t label_offsets(std::string_view name, std::array<std::uint8_t, kLabelsMax>& at) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < name.size() && name[i] != 0 && count < kLabelsMax;
       i += static_cast<std::uint8_t>(name[i]) + 1) {
    at[count++] = static_cast<std::uint8_t>(i);
  }
  return count;
}

constexpr std::string_view kBase32Hex = "0123456789abcdefghijklmnopqrstuv";

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

std::optional<Nsec> nsec_parse(std::span<const std::uint8_t> rdata) {
  const auto next_size = name_size(rdata);
  if (!next_size) return std::nullopt;
  Nsec nsec;
  nsec.next = std::string_view(reinterpret_cast<const char*>(rdata.data()), *next_size);
  nsec.types = rdata.subspan(*next_size);
  if (!type_bitmap_valid(nsec.types)) return std::nullopt;
  return nsec;
}

std::optional<Nsec3> nsec3_parse(std::span<const std::uint8_t> rdata) {
  if (rdata.size() < 5) return std::nullopt;
  Nsec3 nsec3;
  nsec3.hash_algorithm = rdata[0];
  nsec3.flags = rdata[1];
  nsec3.iterations = read_u16(rdata, 2);
  const std::size_t salt_size = rdata[4];
  std::size_t at = 5;
  if (rdata.size() < at + salt_size + 1) return std::nullopt;
  nsec3.salt = rdata.subspan(at, salt_size);
  at += salt_size;
  const std::size_t hash_size = rdata[at++];
  if (hash_size == 0 || rdata.size() < at + hash_size) return std::nullopt;
  nsec3.next_hashed = rdata.subspan(at, hash_size);
  nsec3.types = rdata.subspan(at + hash_size);
  if (!type_bitmap_valid(nsec3.types)) return std::nullopt;
  return nsec3;
}

bool type_bitmap_valid(std::span<const std::uint8_t> types) {
  int last_window = -1;
  for (std::size_t at = 0; at < types.size();) {
    if (types.size() - at < 2) return false;
    const int window = types[at];
    const std::size_t size = types[at + 1];
    if (window <= last_window || size == 0 || size > 32 || types.size() - at - 2 < size) {
      return false;
    }
    last_window = window;
    at += 2 + size;
  }
  return true;
}

bool type_bitmap_has(std::span<const std::uint8_t> types, std::uint16_t type) {
  const std::size_t window = type >> 8;
  const std::size_t byte = (type & 0xff) / 8;
  const auto bit = static_cast<std::uint8_t>(0x80 >> (type & 7));
  for (std::size_t at = 0; at + 2 <= types.size(); at += 2 + types[at + 1]) {
    if (types[at] != window) continue;
    const std::size_t size = types[at + 1];
    return byte < size && at + 2 + byte < types.size() && (types[at + 2 + byte] & bit) != 0;
  }
  return false;
}

Bytes nsec3_hash(std::string_view name, std::span<const std::uint8_t> salt,
                 std::uint16_t iterations) {
  Bytes input;
  input.reserve(std::max(name.size(), std::size_t{LDNS_SHA1_DIGEST_LENGTH}) + salt.size());
  for (const char c : name) input.push_back(static_cast<std::uint8_t>(ascii_lower(c)));
  input.insert(input.end(), salt.begin(), salt.end());
  Bytes digest(LDNS_SHA1_DIGEST_LENGTH);
  for (std::uint32_t i = 0; i <= iterations; ++i) {
    ldns_sha1(input.data(), static_cast<unsigned int>(input.size()), digest.data());
    input.assign(digest.begin(), digest.end());
    input.insert(input.end(), salt.begin(), salt.end());
  }
  return digest;
}

std::string base32hex_encode(std::span<const std::uint8_t> data) {
  std::string text;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const std::uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      text.push_back(kBase32Hex[(buffer >> bits) & 31]);
    }
  }
  if (bits > 0) text.push_back(kBase32Hex[(buffer << (5 - bits)) & 31]);
  return text;
}

std::optional<Bytes> base32hex_decode(std::string_view text) {
  Bytes data;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const auto value = kBase32Hex.find(ascii_lower(c));
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      data.push_back(static_cast<std::uint8_t>(buffer >> bits));
    }
  }
  // What is left must be padding: fewer than 5 bits (else a character encodes no byte), zero.
  if (bits >= 5 || (buffer & ((1U << bits) - 1)) != 0) return std::nullopt;
  return data;
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

std::size_t name_common_labels(std::string_view a, std::string_view b) {
  std::array<std::uint8_t, kLabelsMax> at_a{};
  std::array<std::uint8_t, kLabelsMax> at_b{};
  std::size_t count_a = label_offsets(a, at_a);
  std::size_t count_b = label_offsets(b, at_b);
  std::size_t common = 0;
  while (count_a > 0 && count_b > 0) {
    const std::size_t ia = at_a[--count_a];
    const std::size_t ib = at_b[--count_b];
    const auto size = static_cast<std::uint8_t>(a[ia]);
    if (size != static_cast<std::uint8_t>(b[ib]) ||
        !name_equal(a.substr(ia + 1, size), b.substr(ib + 1, size))) {
      break;
    }
    ++common;
  }
  return common;
}

int name_compare(std::string_view a, std::string_view b) {
  std::array<std::uint8_t, kLabelsMax> at_a{};
  std::array<std::uint8_t, kLabelsMax> at_b{};
  std::size_t count_a = label_offsets(a, at_a);
  std::size_t count_b = label_offsets(b, at_b);
  while (count_a > 0 && count_b > 0) {
    const std::size_t ia = at_a[--count_a];
    const std::size_t ib = at_b[--count_b];
    const std::size_t size_a = static_cast<std::uint8_t>(a[ia]);
    const std::size_t size_b = static_cast<std::uint8_t>(b[ib]);
    for (std::size_t i = 0; i < std::min(size_a, size_b); ++i) {
      const auto ca = static_cast<std::uint8_t>(ascii_lower(a[ia + 1 + i]));
      const auto cb = static_cast<std::uint8_t>(ascii_lower(b[ib + 1 + i]));
      if (ca != cb) return ca < cb ? -1 : 1;
    }
    if (size_a != size_b) return size_a < size_b ? -1 : 1;
  }
  if (count_a != count_b) return count_a < count_b ? -1 : 1;
  return 0;
}

std::string_view name_parent(std::string_view name) {
  if (name.empty() || name[0] == 0) return name;
  return name.substr(static_cast<std::uint8_t>(name[0]) + 1);
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
