// Trust anchors (RFC 4035 §4.4): the root's key-signing keys built in, as DS records
// (KSK-2017, tag 20326; KSK-2024, tag 38696: IANA's root-anchors.xml, and Debian's
// /usr/share/dns/root.ds), or read from a file of DS and DNSKEY records in zone-file text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "dnssec/chain.h"

namespace dp::dnssec {

// The root's DS records, built in.
std::vector<TrustAnchor> trust_anchors_builtin();

// Parses zone-file text: DS and DNSKEY records, each line naming its owner (any owner; several
// owners give several anchors), comments, blank lines, $TTL and $ORIGIN. Errors, as
// "line N: why": a record that does not parse, a type other than DS or DNSKEY, no record at all.
Result<std::vector<TrustAnchor>, std::string> trust_anchors_parse(std::string_view text);

// "., 2 DS (tags 20326 38696)" for the log.
std::string trust_anchors_describe(const std::vector<TrustAnchor>& anchors);

}  // namespace dp::dnssec
