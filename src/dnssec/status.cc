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
    case Ede::kNoReachableAuthority:
      return "no_reachable_authority";
    case Ede::kUnsupportedNsec3Iterations:
      return "unsupported_nsec3_iterations";
  }
  return "other";
}

EdeSlot ede_slot(Ede ede) {
  switch (ede) {
    case Ede::kDnssecBogus:
      return EdeSlot::kDnssecBogus;
    case Ede::kSignatureExpired:
      return EdeSlot::kSignatureExpired;
    case Ede::kSignatureNotYetValid:
      return EdeSlot::kSignatureNotYetValid;
    case Ede::kDnskeyMissing:
      return EdeSlot::kDnskeyMissing;
    case Ede::kRrsigsMissing:
      return EdeSlot::kRrsigsMissing;
    case Ede::kNsecMissing:
      return EdeSlot::kNsecMissing;
    case Ede::kNoReachableAuthority:
      return EdeSlot::kNoReachableAuthority;
    default:
      return EdeSlot::kOther;
  }
}

std::string_view ede_slot_name(EdeSlot slot) {
  switch (slot) {
    case EdeSlot::kDnssecBogus:
      return ede_name(Ede::kDnssecBogus);
    case EdeSlot::kSignatureExpired:
      return ede_name(Ede::kSignatureExpired);
    case EdeSlot::kSignatureNotYetValid:
      return ede_name(Ede::kSignatureNotYetValid);
    case EdeSlot::kDnskeyMissing:
      return ede_name(Ede::kDnskeyMissing);
    case EdeSlot::kRrsigsMissing:
      return ede_name(Ede::kRrsigsMissing);
    case EdeSlot::kNsecMissing:
      return ede_name(Ede::kNsecMissing);
    case EdeSlot::kNoReachableAuthority:
      return ede_name(Ede::kNoReachableAuthority);
    case EdeSlot::kOther:
      return "other";
  }
  return "other";
}

}  // namespace dp::dnssec
