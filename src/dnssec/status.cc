#include "dnssec/status.h"

namespace dp::dnssec {

std::string_view status_name(Status status) {
  switch (status) {
    case Status::kSecure:
      return "secure";
    case Status::kInsecure:
      return "insecure";
    case Status::kBogus:
      return "bogus";
    case Status::kIndeterminate:
      return "indeterminate";
  }
  return "indeterminate";
}

std::string_view ede_name(Ede ede) {
  switch (ede) {
    case Ede::kUnsupportedDnskeyAlgorithm:
      return "unsupported_dnskey_algorithm";
    case Ede::kUnsupportedDsDigestType:
      return "unsupported_ds_digest_type";
    case Ede::kDnssecBogus:
      return "dnssec_bogus";
    case Ede::kSignatureExpired:
      return "signature_expired";
    case Ede::kSignatureNotYetValid:
      return "signature_not_yet_valid";
    case Ede::kDnskeyMissing:
      return "dnskey_missing";
    case Ede::kRrsigsMissing:
      return "rrsigs_missing";
    case Ede::kNsecMissing:
      return "nsec_missing";
    case Ede::kUnsupportedNsec3Iterations:
      return "unsupported_nsec3_iterations";
  }
  return "other";
}

}  // namespace dp::dnssec
