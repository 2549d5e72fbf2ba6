// The records DNSSEC reads, in our own types: resource records in uncompressed wire form, the
// RRSIG, DNSKEY, DS, NSEC and NSEC3 RDATA parsed (RFC 4034 §2-§5, RFC 5155 §3), key tags, NSEC3
// hashes, and wire-form name helpers with the canonical name order (RFC 4034 §6.1).
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

inline constexpr std::uint16_t kTypeNs = 2;
inline constexpr std::uint16_t kTypeCname = 5;
inline constexpr std::uint16_t kTypeSoa = 6;
inline constexpr std::uint16_t kTypeDname = 39;
inline constexpr std::uint16_t kTypeDs = 43;
inline constexpr std::uint16_t kTypeRrsig = 46;
inline constexpr std::uint16_t kTypeNsec = 47;
inline constexpr std::uint16_t kTypeDnskey = 48;
inline constexpr std::uint16_t kTypeNsec3 = 50;
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

// NSEC RDATA (RFC 4034 §4.1). Both point into the RDATA it was parsed from.
struct Nsec {
  std::string_view next;                // wire form, the case it came in (RFC 6840 §5.1)
  std::span<const std::uint8_t> types;  // type bit maps, checked by type_bitmap_valid
};

// NSEC3 RDATA (RFC 5155 §3.2). The spans point into the RDATA it was parsed from.
struct Nsec3 {
  static constexpr std::uint8_t kFlagOptOut = 0x01;  // RFC 5155 §3.1.2.1
  static constexpr std::uint8_t kHashSha1 = 1;       // RFC 5155 §11: the only hash defined

  std::uint8_t hash_algorithm = 0;
  std::uint8_t flags = 0;
  std::uint16_t iterations = 0;
  std::span<const std::uint8_t> salt;
  std::span<const std::uint8_t> next_hashed;  // raw hash, not base32hex
  std::span<const std::uint8_t> types;

  bool opt_out() const { return (flags & kFlagOptOut) != 0; }
};

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

// nullopt when the next name is not a valid uncompressed name or the bit maps are malformed.
std::optional<Nsec> nsec_parse(std::span<const std::uint8_t> rdata);
// nullopt when a length runs past the RDATA, the next hashed owner is empty, or the bit maps
// are malformed.
std::optional<Nsec3> nsec3_parse(std::span<const std::uint8_t> rdata);
// RFC 4034 §4.1.2: windows in ascending order, each bitmap 1 to 32 bytes, nothing left over.
// The empty list is valid (an NSEC3 at an empty non-terminal, RFC 5155 §7.1).
bool type_bitmap_valid(std::span<const std::uint8_t> types);
// Whether `type` is set in valid bit maps.
bool type_bitmap_has(std::span<const std::uint8_t> types, std::uint16_t type);

// RFC 5155 §5: IH(salt, x, 0) = H(x | salt), IH(salt, x, k) = H(IH(salt, x, k-1) | salt), x the
// lowercased wire-form `name`, H SHA-1. Costs iterations + 1 SHA-1 runs: callers cap both.
Bytes nsec3_hash(std::string_view name, std::span<const std::uint8_t> salt,
                 std::uint16_t iterations);
// RFC 4648 §7 "base32hex" without padding, lowercase (the form NSEC3 owner labels take).
std::string base32hex_encode(std::span<const std::uint8_t> data);
// Either case; nullopt on a character outside the alphabet, a length no whole byte count
// gives, or non-zero trailing bits.
std::optional<Bytes> base32hex_decode(std::string_view text);

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
// How many rightmost labels `a` and `b` share, ignoring case (the root not counted).
std::size_t name_common_labels(std::string_view a, std::string_view b);
// RFC 4034 §6.1 canonical order: labels compared right to left, each as lowercased bytes
// (a label that is a prefix of another sorts first), an ancestor before its descendants.
// Negative, zero or positive as `a` sorts before, equal to or after `b`.
int name_compare(std::string_view a, std::string_view b);
// The name one label up; the root stays the root.
std::string_view name_parent(std::string_view name);
// The rightmost `labels` labels of `name` (the root when 0); the whole name when it has fewer.
std::string_view name_suffix(std::string_view name, std::size_t labels);
// ASCII lowercase of the whole name (RFC 4034 §6.2).
std::string name_lower(std::string_view name);
// "example.com." as text, for reasons and logs.
std::string name_to_text(std::string_view name);

}  // namespace dp::dnssec
