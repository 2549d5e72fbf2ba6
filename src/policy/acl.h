// Access control: which client addresses may query us. An ordered list of network/prefix rules,
// first match wins, no match refuses, so a mis-bound listener is not an open resolver
// (RFC 5358 §4: recursive service should be limited to intended clients).
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/socket_address.h"

namespace dp::policy {

enum class AclAction {
  kAllow,
  kRefuse,  // the caller answers REFUSED with EDE 18 "Prohibited" (RFC 8914 §4.19)
  kDrop,    // no answer at all: nothing to reflect, nothing to amplify
};

// "allow" / "refuse" / "drop": for logs and metric labels.
std::string_view acl_action_name(AclAction action);

struct AclRule {
  int family = AF_INET;                    // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> network{};  // network byte order; AF_INET uses the first 4 bytes;
                                           // bits past prefix_len are always zero
  unsigned prefix_len = 0;                 // 0..32 for AF_INET, 0..128 for AF_INET6
  AclAction action = AclAction::kRefuse;

  friend bool operator==(const AclRule&, const AclRule&) = default;
};

// "ADDR[/LEN] ACTION", e.g. "10.0.0.0/8 allow", "192.0.2.7 refuse" (no /LEN: one host),
// "::1/128 allow", "0.0.0.0/0 drop". Fails, with a message naming the fault, on: a missing or
// unknown action, extra words, an address that is not an IPv4/IPv6 literal, a prefix length
// that is empty, not decimal or too long for the family, and a network with host bits set
// ("10.0.0.1/8" is refused rather than guessed: the writer may have meant the host or the
// network). An IPv4-mapped rule ("::ffff:10.0.0.0/104") becomes the IPv4 rule it names.
Result<AclRule, std::string> acl_rule_parse(std::string_view text);

// The canonical text of a rule: "10.0.0.0/8 allow", "::1/128 allow".
std::string acl_rule_format(const AclRule& rule);

// Immutable after construction; built at start-up (and on reload) and read by every worker
// without locking.
class Acl {
 public:
  explicit Acl(std::vector<AclRule> rules);

  // Loopback and private/link-local ranges allowed, everything else refused: safe for a
  // resolver on a LAN, and never an open resolver by accident.
  static Acl defaults();

  // First matching rule's action; kRefuse when none matches. IPv4-mapped IPv6 clients
  // (::ffff:a.b.c.d, RFC 4291 §2.5.5.2, seen on dual-stack sockets) match IPv4 rules only.
  // Hot path: no allocation, a linear scan of 128-bit compares.
  AclAction check(const SocketAddress& client) const;

  // "10.0.0.0/8 allow, ::1/128 allow, else refuse" for the start-up log line.
  std::string describe() const;

  const std::vector<AclRule>& rules() const { return rules_; }

 private:
  // A rule as two masked 64-bit halves, so a match is two XOR-AND tests.
  struct Compiled {
    std::uint64_t hi, lo, mask_hi, mask_lo;
    bool v4;
    AclAction action;
  };
  std::vector<AclRule> rules_;
  std::vector<Compiled> compiled_;
};

}  // namespace dp::policy
