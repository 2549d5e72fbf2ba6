#include "policy/rate_limiter.h"

#include <netinet/in.h>

#include <algorithm>
#include <random>

#include "policy/bits.h"

namespace dp::policy {
namespace {

// splitmix64's finaliser: every input bit reaches every output bit.
std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

constexpr double kMaxIntervalNs = 1e15;   // ~11.6 days per query: slower is "never"
constexpr double kMaxToleranceNs = 1e17;  // ~3 years of burst: bigger is "unlimited"

}  // namespace

std::size_t RateLimiter::KeyHash::operator()(const Key& k) const {
  // Seeded per limiter so that spoofed sources cannot be chosen to pile into one hash chain.
  return mix(mix(k.hi ^ seed) ^ k.lo);
}

RateLimiter::RateLimiter(RateLimitOptions options)
    : options_(options), index_(0, KeyHash{std::random_device{}()}) {
  options_.ipv4_prefix = std::min(options_.ipv4_prefix, 32u);
  options_.ipv6_prefix = std::min(options_.ipv6_prefix, 128u);
  options_.max_buckets = std::max<std::size_t>(options_.max_buckets, 1);
  if (!enabled()) return;
  // A bucket smaller than one query would refuse everything.
  const double burst =
      std::max(options_.burst > 0 ? options_.burst : options_.queries_per_second, 1.0);
  const double interval_ns = std::clamp(1e9 / options_.queries_per_second, 1.0, kMaxIntervalNs);
  interval_ = std::chrono::nanoseconds(static_cast<std::int64_t>(interval_ns));
  tolerance_ = std::chrono::nanoseconds(
      static_cast<std::int64_t>(std::min((burst - 1) * interval_ns, kMaxToleranceNs)));
}

RateLimiter::Key RateLimiter::key_of(const SocketAddress& client) const {
  Key k;
  if (client.family() == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(client.sa());
    const auto* p = reinterpret_cast<const std::uint8_t*>(&sin->sin_addr);
    const std::uint64_t v4 = (std::uint64_t{p[0]} << 24) | (std::uint64_t{p[1]} << 16) |
                             (std::uint64_t{p[2]} << 8) | p[3];
    k.lo = 0xffff00000000ULL | (v4 & (top_mask(static_cast<int>(options_.ipv4_prefix)) >> 32));
  } else if (client.family() == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(client.sa());
    const auto* p = sin6->sin6_addr.s6_addr;
    k.hi = load_be64(p);
    k.lo = load_be64(p + 8);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {  // RFC 4291 §2.5.5.2: an IPv4 client
      k.lo = 0xffff00000000ULL |
             (k.lo & 0xffffffffULL & (top_mask(static_cast<int>(options_.ipv4_prefix)) >> 32));
    } else {
      const int bits = static_cast<int>(options_.ipv6_prefix);
      k.hi &= top_mask(bits);
      k.lo &= top_mask(bits - 64);
    }
  }
  return k;  // any other family: all such clients share the "::" bucket
}

RateDecision RateLimiter::check(const SocketAddress& client, TimePoint now) {
  if (!enabled()) return RateDecision::kPass;
  const Key key = key_of(client);

  Lru::iterator it;
  if (auto found = index_.find(key); found != index_.end()) {
    it = found->second;
    lru_.splice(lru_.begin(), lru_, it);
  } else if (index_.size() >= options_.max_buckets) {
    // Full: recycle the least recently used entry, its list node and its map node, so a flood
    // of new sources costs no allocation and cannot grow the table.
    it = std::prev(lru_.end());
    auto node = index_.extract(it->key);
    node.key() = key;
    index_.insert(std::move(node));  // the mapped iterator still points at `it`
    lru_.splice(lru_.begin(), lru_, it);
    *it = Bucket{key, now, 0};
    ++evictions_;
  } else {
    lru_.push_front(Bucket{key, now, 0});
    it = lru_.begin();
    index_.emplace(key, it);
  }

  Bucket& b = *it;
  b.tat = std::max(b.tat, now);  // an idle bucket is full, no more
  if (b.tat - now <= tolerance_) {
    b.tat += interval_;
    return RateDecision::kPass;
  }
  ++b.over;
  if (options_.slip != 0 && b.over % options_.slip == 0) return RateDecision::kSlip;
  return RateDecision::kDrop;
}

}  // namespace dp::policy
