// libFuzzer target for the cache path: any bytes as an upstream answer to the question they
// carry; checked, parsed once into the stored form, inserted, then rebuilt for clients of
// every kind (UDP 512, EDNS 1232, TCP; fresh, aged, stale). The first byte picks the client's
// EDNS, DO and the question's case. Nothing may crash, leak or break the budget.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "cache/cache.h"
#include "cache/cache_key.h"
#include "dns/answer_check.h"
#include "dns/message.h"
#include "dns/reply.h"
#include "dns/stored_answer.h"
#include "dns/wire.h"

namespace {

// A client query for the answer's own question, so that answer_check can pass.
std::vector<std::uint8_t> client_query_for(std::span<const std::uint8_t> question,
                                           std::uint8_t control) {
  std::vector<std::uint8_t> wire = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  wire.insert(wire.end(), question.begin(), question.end());
  if ((control & 1) != 0) {  // upper-case the letters: the 0x20 path
    for (std::size_t i = 12; i < wire.size() - 4; ++i) {
      if (wire[i] >= 'a' && wire[i] <= 'z') wire[i] = static_cast<std::uint8_t>(wire[i] - 32);
    }
  }
  if ((control & 2) != 0) {  // EDNS, DO from bit 2
    wire.insert(wire.end(), {0, 0, 41, 0x04, 0xd0, 0, 0,
                             static_cast<std::uint8_t>((control & 4) != 0 ? 0x80 : 0), 0, 0, 0});
    wire[11] = 1;
  }
  return wire;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dp;
  if (size < 1) return 0;
  const std::uint8_t control = data[0];
  const std::span<const std::uint8_t> answer(data + 1, size - 1);
  if (answer.size() < dns::kHeaderSize) return 0;
  const auto question = dns::wire::read_question(answer, dns::kHeaderSize);
  if (!question) return 0;
  auto query = dns::query_parse(client_query_for(*question, control));
  if (!query) return 0;
  if (!dns::answer_check(answer, query->question)) return 0;

  const dns::TtlPolicy policy{.min_ttl = control & 8U, .max_ttl = 3600, .failure_ttl = 5};
  auto stored = dns::stored_answer_make(answer, policy);
  if (!stored) return 0;
  std::vector<std::uint8_t> out;
  for (const std::size_t limit : {std::size_t{512}, std::size_t{1232}, dns::kMaxMessageSize}) {
    dns::reply_build(stored->view(), *query, dns::ReplyShape{.age_seconds = 7, .max_size = limit},
                     out);
    if (out.size() > limit) __builtin_trap();  // a reply over the client's size: a bug
  }

  static cache::Cache cache(cache::CacheOptions{.max_bytes = 1 << 20});
  std::string key;
  cache::cache_key_build(*query, key);
  const TimePoint start = TimePoint{} + std::chrono::hours(1);
  cache.insert(key, *stored, start);
  for (const auto at : {start, start + std::chrono::seconds(30), start + std::chrono::hours(2)}) {
    (void)cache.lookup(key, at, *query, query->udp_reply_limit(), true, out);
  }
  if (cache.stats().bytes > (1 << 20)) __builtin_trap();  // the budget must hold
  return 0;
}
