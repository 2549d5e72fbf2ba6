// The records DNSSEC reads, in our own types: resource records in uncompressed wire form, the
// RRSIG, DNSKEY and DS RDATA parsed (RFC 4034 §2, §3, §5), key tags, and wire-form name helpers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dp::dnssec {

using Bytes = std::vector<std::uint8_t>;

class PreparedKey;  // signature_check.h

inline constexpr std::uint16_t kTypeDs = 43;
inline constexpr std::uint16_t kTypeRrsig = 46;
inline constexpr std::uint16_t kTypeDnskey = 48;
inline constexpr std::uint16_t kClassIn = 1;

// One resource record. Names, the owner's and those inside the RDATA, are uncompressed wire
// form in the case they came in; the caller decompresses what it takes from a message.
struct Rr {
  std::string owner;
  std::uint16_t type = 0;
  std::uint16_t rclass = kClassIn;
  std::uint32_t ttl = 0;
  Bytes rdata;
};

// RRSIG RDATA (RFC 4034 §3.1). `signature` points into the RDATA it was parsed from, which
// must outlive it.
struct Rrsig {
  std::uint16_t type_covered = 0;
  std::uint8_t algorithm = 0;
  std::uint8_t labels = 0;
  std::uint32_t original_ttl = 0;
  std::uint32_t expiration = 0;  // RFC 1982 serial: Unix seconds mod 2^32
  std::uint32_t inception = 0;
  std::uint16_t key_tag = 0;
  std::string signer;  // wire form, as sent
  std::span<const std::uint8_t> signature;
};

// DNSKEY RDATA (RFC 4034 §2.1) with its key tag (RFC 4034 Appendix B).
struct Dnskey {
  static constexpr std::uint16_t kFlagZone = 0x0100;    // bit 7: a zone key (RFC 4034 §2.1.1)
  static constexpr std::uint16_t kFlagRevoke = 0x0080;  // bit 8: revoked (RFC 5011 §2.1)
  static constexpr std::uint8_t kProtocol = 3;          // RFC 4034 §2.1.2: anything else is bogus

  std::uint16_t flags = 0;
  std::uint8_t protocol = 0;
  std::uint8_t algorithm = 0;
  std::uint16_t key_tag = 0;
  Bytes rdata;  // the whole RDATA: what key tags, DS digests and anchors compare
  // The public key decoded once (dnskey_prepare), shared by copies; null until then. Used
  // only while it still matches `algorithm` and the RDATA's key (PreparedKey::prepared_from).
  std::shared_ptr<const PreparedKey> prepared;

  std::span<const std::uint8_t> public_key() const {
    return std::span<const std::uint8_t>(rdata).subspan(4);
  }
  // A key that may sign zone data: zone bit set, protocol 3, not revoked.
  bool usable_zone_key() const {
    return (flags & kFlagZone) != 0 && (flags & kFlagRevoke) == 0 && protocol == kProtocol;
  }
};

// DS RDATA (RFC 4034 §5.1).
struct Ds {
  std::uint16_t key_tag = 0;
  std::uint8_t algorithm = 0;
  std::uint8_t digest_type = 0;
  Bytes digest;
};

inline constexpr std::uint8_t kDigestSha1 = 1;
inline constexpr std::uint8_t kDigestSha256 = 2;
inline constexpr std::uint8_t kDigestSha384 = 4;

// nullopt when the RDATA is shorter than the fixed fields, the signer is not a valid
// uncompressed name, or the signature is empty.
std::optional<Rrsig> rrsig_parse(std::span<const std::uint8_t> rdata);
// nullopt when the RDATA is shorter than flags, protocol, algorithm and one key byte.
std::optional<Dnskey> dnskey_parse(std::span<const std::uint8_t> rdata);
// Fills `key.prepared` (unless it already matches the key), so that rrset_verify with this key,
// and every copy made after, verifies without decoding the key again: for key sets kept in a
// key cache. False, and `prepared` null, when signature_verify would refuse every signature by
// this key (PreparedKey::make: unsupported algorithm, wrong size, a key the crypto refuses).
bool dnskey_prepare(Dnskey& key);
// nullopt when the RDATA is shorter than key tag, algorithm, digest type and one digest byte.
std::optional<Ds> ds_parse(std::span<const std::uint8_t> rdata);

// RFC 4034 Appendix B over a whole DNSKEY RDATA. Algorithm 1 (RSA/MD5) has its own rule, not
// followed: we never validate with it.
std::uint16_t key_tag_compute(std::span<const std::uint8_t> dnskey_rdata);

// True for SHA-1 (1), SHA-256 (2) and SHA-384 (4); GOST (3) and others are not done.
bool digest_supported(std::uint8_t digest_type);
// Whether `ds` is the digest of `key` owned by `owner` (RFC 4034 §5.1.4: canonical owner |
// DNSKEY RDATA) with a matching key tag and algorithm. False for an unsupported digest type.
bool ds_matches(const Ds& ds, std::string_view owner, const Dnskey& key);

// Wire-form names. name_valid first: the others assume a valid name.
// Labels of at most 63 bytes, at most 255 bytes in all, ending at the root, no pointers.
bool name_valid(std::string_view name);
// RFC 4034 §3.1.3: labels, the root and a leading "*" not counted.
std::size_t name_label_count(std::string_view name);
// Equal ignoring ASCII case (RFC 4343).
bool name_equal(std::string_view a, std::string_view b);
// Whether `name` is `zone` or below it, ignoring case.
bool name_is_under(std::string_view name, std::string_view zone);
// The rightmost `labels` labels of `name` (the root when 0); the whole name when it has fewer.
std::string_view name_suffix(std::string_view name, std::size_t labels);
// ASCII lowercase of the whole name (RFC 4034 §6.2).
std::string name_lower(std::string_view name);
// "example.com." as text, for reasons and logs.
std::string name_to_text(std::string_view name);

}  // namespace dp::dnssec
