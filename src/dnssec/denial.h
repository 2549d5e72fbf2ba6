// Authenticated denial of existence (RFC 4035 §5.4, RFC 5155 §8): what validated NSEC and NSEC3
// records prove about a name — NXDOMAIN, NODATA, a wildcard answer's "no closer match", and
// whether a name is a secure, insecure or no delegation. Pure: records in, verdict out.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "dnssec/records.h"
#include "dnssec/rrset_verify.h"
#include "dnssec/status.h"

namespace dp::dnssec {

// What a DS denial (a NODATA or NXDOMAIN answer to "name DS?", or the authority section of a
// referral) proves about `name`.
enum class DsAbsence {
  kNotACut,             // name exists (or is an empty non-terminal) in `zone` and is no
                        // delegation: no NS, no DS. Walk on below it.
  kInsecureDelegation,  // NS without DS (RFC 4035 §5.2), or an NSEC3 opt-out span covers it
                        // (RFC 5155 §8.6, §9.2): everything below is insecure
  kNameMissing,         // the name does not exist in `zone` (NXDOMAIN proven, or it exists
                        // only through a wildcard, which cannot be a cut either)
};

struct DenialVerdict {
  // kSecure when proven. kInsecure (EDE none) when an NSEC3 opt-out span is all the proof has
  // for an answer (RFC 5155 §9.2: opt-out proves insecure, never secure); kInsecure, EDE 27 when
  // the NSEC3 iterations exceed options.max_nsec3_iterations (RFC 9276 §3.2). kBogus, EDE 12
  // when the records do not prove it; kBogus, EDE 6 when they are malformed or contradict it.
  Verdict verdict;
  DsAbsence ds_absence = DsAbsence::kNotACut;  // ds_absence_prove only, when kSecure
};

// The inputs of every function below.
// - `denials`: the NSEC (47) and NSEC3 (50) RRs of an answer's authority section, each RRset
//   already validated as secure with `zone`'s keys, none expanded from a wildcard (the caller
//   drops those: CVE-2017-15107). Other types are ignored. Names: uncompressed wire form, any
//   case.
// - NSEC records count only when owned by `zone` or a name below it. One whose owner is an
//   ancestor of a name and which has NS set and SOA clear (a delegation), or DNAME set, denies
//   nothing below its owner (RFC 6840 §4.1). Covering uses the canonical order (RFC 4034 §6.1);
//   the zone's last NSEC wraps around to the apex.
// - NSEC3 records count only when owned by one base32hex label directly under `zone`, with hash
//   algorithm 1 and flags 0 or 1 (RFC 5155 §8.2: others are ignored). All counted must share
//   salt and iterations (RFC 5155 §7.2), else kBogus, EDE 6. At most options.max_nsec3_hashes
//   names are hashed per call; a proof that needs more is kBogus, EDE 6.
// - When `zone` has NSEC records in `denials`, the NSEC rules are used, else the NSEC3 ones.
// Every function fails with kBogus, EDE 6 when an NSEC or NSEC3 of `zone` has malformed RDATA or
// owner label, or a name given is malformed or not under `zone`; with kBogus, EDE 12 when no
// record of `zone` is usable or the proof is incomplete.

// NXDOMAIN (RFC 4035 §5.4, RFC 5155 §8.4): no name `qname` (nor any below it: an empty
// non-terminal exists), and no wildcard at its closest encloser. Also fails with kBogus, EDE 6
// when a record proves `qname` or the wildcard exists; kInsecure when the NSEC3 covering the
// next closer name has opt-out (an unsigned delegation may be there).
[[nodiscard]] DenialVerdict nxdomain_prove(std::string_view qname, std::string_view zone,
                                           std::span<const Rr> denials,
                                           const ValidationOptions& options = {});

// NODATA (RFC 4035 §5.4; RFC 5155 §8.5, §8.6 for DS, §8.7 for a wildcard): `qname` exists
// without `qtype` and without CNAME (RFC 6840 §4.3), or is an empty non-terminal, or a wildcard
// matching it exists without them. A record at `qname` with NS set and SOA clear is the parent's
// side of a cut: it proves NODATA only for DS; with SOA set (the child's apex) it proves it for
// anything but DS (RFC 4035 §3.1.4.1). Also fails with kInsecure when qtype is DS, no NSEC3
// matches `qname` and the one covering it has opt-out (RFC 5155 §8.6), or a wildcard NODATA's
// next closer name lies in an opt-out span.
[[nodiscard]] DenialVerdict nodata_prove(std::string_view qname, std::uint16_t qtype,
                                         std::string_view zone, std::span<const Rr> denials,
                                         const ValidationOptions& options = {});

// A positive answer synthesised from the wildcard "*.closest_encloser" (RFC 4035 §5.3.4,
// RFC 5155 §8.8; RrsetVerdict::wildcard and closest_encloser say when): no name closer to
// `qname` than `closest_encloser` exists. `qname` must be strictly below `closest_encloser`,
// which must be `zone` or below it. Also fails with kInsecure when the NSEC3 covering the next
// closer name has opt-out.
[[nodiscard]] DenialVerdict wildcard_answer_prove(std::string_view qname,
                                                  std::string_view closest_encloser,
                                                  std::string_view zone,
                                                  std::span<const Rr> denials,
                                                  const ValidationOptions& options = {});

// The DS denial for `name`, strictly below `zone`, from `zone` (the parent) side: which
// DsAbsence it proves, with kSecure. A record at `name` with DS set, or SOA set (the child
// side, RFC 4035 §5.2), fails with kBogus, EDE 6. An NSEC3 opt-out span covering `name` gives
// kInsecureDelegation with kSecure: the proof holds, and what it proves is "nothing secure
// below" (RFC 5155 §8.6). Insecure EDE 27 as above.
[[nodiscard]] DenialVerdict ds_absence_prove(std::string_view name, std::string_view zone,
                                             std::span<const Rr> denials,
                                             const ValidationOptions& options = {});

}  // namespace dp::dnssec
