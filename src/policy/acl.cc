#include "policy/acl.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "policy/bits.h"

namespace dp::policy {
namespace {

constexpr std::string_view kBlank = " \t";
constexpr std::string_view kUsage = "expected 'ADDR[/LEN] allow|refuse|drop'";

unsigned max_prefix(int family) { return family == AF_INET ? 32 : 128; }

// Zeroes the bits of `network` past `prefix_len`; true if any were set.
bool clear_host_bits(std::array<std::uint8_t, 16>& network, unsigned prefix_len) {
  bool had = false;
  for (unsigned byte = 0; byte < network.size(); ++byte) {
    const int keep_bits = static_cast<int>(prefix_len) - static_cast<int>(byte * 8);
    const auto keep = static_cast<std::uint8_t>(top_mask(keep_bits) >> 56);
    if ((network[byte] & ~keep) != 0) had = true;
    network[byte] &= keep;
  }
  return had;
}

// The address as a 128-bit value: IPv6 as is; IPv4, and IPv4-mapped IPv6, in the low 32 bits
// with v4 set, so that ::ffff:10.1.2.3 and 10.1.2.3 compare equal.
struct Bits {
  std::uint64_t hi = 0, lo = 0;
  bool v4 = false;
};

Bits client_bits(const SocketAddress& client) {
  Bits b;
  if (client.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(client.sa());
    b.lo = ntohl(sin->sin_addr.s_addr);
    b.v4 = true;
  } else if (client.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(client.sa());
    const auto* p = sin6->sin6_addr.s6_addr;
    b.hi = load_be64(p);
    b.lo = load_be64(p + 8);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {  // RFC 4291 §2.5.5.2
      b.hi = 0;
      b.lo &= 0xffffffffu;
      b.v4 = true;
    }
  }
  return b;  // other families never get here: check() refuses them first
}

}  // namespace

std::string_view acl_action_name(AclAction action) {
  switch (action) {
    case AclAction::kAllow:
      return "allow";
    case AclAction::kRefuse:
      return "refuse";
    case AclAction::kDrop:
      return "drop";
  }
  return "refuse";
}

Result<AclRule, std::string> acl_rule_parse(std::string_view text) {
  std::vector<std::string_view> words;
  for (auto pos = text.find_first_not_of(kBlank); pos != std::string_view::npos;) {
    const auto end = text.find_first_of(kBlank, pos);
    words.push_back(text.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? end : text.find_first_not_of(kBlank, end);
  }
  const std::string where = " in ACL rule '" + std::string(text) + "'";
  if (words.empty()) return unexpected("empty ACL rule; " + std::string(kUsage));
  if (words.size() == 1) return unexpected("missing action" + where + "; " + std::string(kUsage));
  if (words.size() > 2)
    return unexpected("unexpected '" + std::string(words[2]) + "'" + where + "; " +
                      std::string(kUsage));

  AclRule rule;
  if (words[1] == "allow")
    rule.action = AclAction::kAllow;
  else if (words[1] == "refuse")
    rule.action = AclAction::kRefuse;
  else if (words[1] == "drop")
    rule.action = AclAction::kDrop;
  else
    return unexpected("unknown action '" + std::string(words[1]) + "'" + where +
                      "; expected allow, refuse or drop");

  std::string_view addr = words[0];
  std::string_view len_text;
  const bool has_len = addr.find('/') != std::string_view::npos;
  if (has_len) {
    len_text = addr.substr(addr.find('/') + 1);
    addr = addr.substr(0, addr.find('/'));
  }
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.empty() || addr.size() >= sizeof buf)
    return unexpected("bad address '" + std::string(addr) + "'" + where);
  std::memcpy(buf, addr.data(), addr.size());
  if (inet_pton(AF_INET, buf, rule.network.data()) == 1) {
    rule.family = AF_INET;
  } else if (inet_pton(AF_INET6, buf, rule.network.data()) == 1) {
    rule.family = AF_INET6;
  } else {
    return unexpected("bad address '" + std::string(addr) + "'" + where +
                      " (an IPv4 or IPv6 literal, no names or zones)");
  }

  rule.prefix_len = max_prefix(rule.family);
  if (has_len) {
    unsigned len = 0;
    const auto* first = len_text.data();
    const auto* last = first + len_text.size();
    const auto [end, ec] = std::from_chars(first, last, len);
    if (len_text.empty() || len_text.size() > 3 || ec != std::errc() || end != last ||
        len > max_prefix(rule.family))
      return unexpected("bad prefix length '/" + std::string(len_text) + "'" + where +
                        "; expected 0.." + std::to_string(max_prefix(rule.family)));
    rule.prefix_len = len;
  }

  // A mapped network is an IPv4 network: store it as one, as check() sees mapped clients.
  const auto* as6 = reinterpret_cast<const in6_addr*>(rule.network.data());
  if (rule.family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(as6)) {
    if (rule.prefix_len < 96)
      return unexpected("IPv4-mapped network needs a prefix length of 96 or more" + where);
    std::array<std::uint8_t, 16> v4{};
    std::memcpy(v4.data(), rule.network.data() + 12, 4);
    rule.network = v4;
    rule.family = AF_INET;
    rule.prefix_len -= 96;
  }

  if (clear_host_bits(rule.network, rule.prefix_len)) {
    return unexpected("host bits set" + where + "; did you mean '" + acl_rule_format(rule) +
                      "' or '" + std::string(addr) + " " + std::string(words[1]) + "'?");
  }
  return rule;
}

std::string acl_rule_format(const AclRule& rule) {
  char buf[INET6_ADDRSTRLEN] = "";
  inet_ntop(rule.family, rule.network.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(rule.prefix_len) + " " +
         std::string(acl_action_name(rule.action));
}

Acl::Acl(std::vector<AclRule> rules) : rules_(std::move(rules)) {
  compiled_.reserve(rules_.size());
  for (AclRule& r : rules_) {
    // Rules built by hand rather than parsed may not be canonical: make describe() true.
    if (r.family != AF_INET) r.family = AF_INET6;
    r.prefix_len = std::min(r.prefix_len, max_prefix(r.family));
    clear_host_bits(r.network, r.prefix_len);
    Compiled c{};
    c.action = r.action;
    c.v4 = r.family == AF_INET;
    if (c.v4) {
      c.lo = (std::uint64_t{r.network[0]} << 24) | (std::uint64_t{r.network[1]} << 16) |
             (std::uint64_t{r.network[2]} << 8) | r.network[3];
      c.mask_lo = top_mask(static_cast<int>(r.prefix_len)) >> 32;
    } else {
      c.hi = load_be64(r.network.data());
      c.lo = load_be64(r.network.data() + 8);
      c.mask_hi = top_mask(static_cast<int>(r.prefix_len));
      c.mask_lo = top_mask(static_cast<int>(r.prefix_len) - 64);
    }
    compiled_.push_back(c);
  }
}

Acl Acl::defaults() {
  std::vector<AclRule> rules;
  for (const char* text : {
           "127.0.0.0/8 allow",     // loopback, RFC 1122 §3.2.1.3
           "::1/128 allow",         // loopback, RFC 4291 §2.5.3
           "10.0.0.0/8 allow",      // private, RFC 1918
           "172.16.0.0/12 allow",   // private, RFC 1918
           "192.168.0.0/16 allow",  // private, RFC 1918
           "100.64.0.0/10 allow",   // shared address space (CGNAT), RFC 6598
           "169.254.0.0/16 allow",  // link-local, RFC 3927
           "fc00::/7 allow",        // unique local, RFC 4193
           "fe80::/10 allow",       // link-local, RFC 4291 §2.5.6
       }) {
    rules.push_back(acl_rule_parse(text).value());
  }
  return Acl(std::move(rules));
}

AclAction Acl::check(const SocketAddress& client) const {
  if (client.family() != AF_INET && client.family() != AF_INET6) return AclAction::kRefuse;
  const Bits b = client_bits(client);
  for (const Compiled& c : compiled_) {
    if (c.v4 == b.v4 && (((b.hi ^ c.hi) & c.mask_hi) | ((b.lo ^ c.lo) & c.mask_lo)) == 0)
      return c.action;
  }
  return AclAction::kRefuse;
}

std::string Acl::describe() const {
  std::string out;
  for (const AclRule& r : rules_) out += acl_rule_format(r) + ", ";
  return out + "else refuse";
}

}  // namespace dp::policy
