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

AlgorithmSlot algorithm_slot(std::uint8_t algorithm) {
  switch (algorithm) {
    case 5:
    case 7:
      return AlgorithmSlot::kRsaSha1;
    case 8:
      return AlgorithmSlot::kRsaSha256;
    case 10:
      return AlgorithmSlot::kRsaSha512;
    case 13:
      return AlgorithmSlot::kEcdsaP256;
    case 14:
      return AlgorithmSlot::kEcdsaP384;
    case 15:
      return AlgorithmSlot::kEd25519;
    case 16:
      return AlgorithmSlot::kEd448;
    default:
      return AlgorithmSlot::kOther;
  }
}

std::string_view algorithm_slot_name(AlgorithmSlot slot) {
  switch (slot) {
    case AlgorithmSlot::kRsaSha1:
      return "RSASHA1";
    case AlgorithmSlot::kRsaSha256:
      return "RSASHA256";
    case AlgorithmSlot::kRsaSha512:
      return "RSASHA512";
    case AlgorithmSlot::kEcdsaP256:
      return "ECDSAP256SHA256";
    case AlgorithmSlot::kEcdsaP384:
      return "ECDSAP384SHA384";
    case AlgorithmSlot::kEd25519:
      return "ED25519";
    case AlgorithmSlot::kEd448:
      return "ED448";
    case AlgorithmSlot::kOther:
      break;
  }
  return "other";
}

}  // namespace dp::dnssec
