// libFuzzer target: any bytes as a client query (validate, reject or forward-build) and as an
// upstream answer (check, rewrite for the client, truncate). Nothing may crash or leak.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "dns/answer_check.h"
#include "dns/framing.h"
#include "dns/message.h"
#include "dns/record_check.h"
#include "dns/reply.h"
#include "dns/stored_answer.h"
#include "dns/upstream_query.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dp::dns;
  const std::span<const std::uint8_t> bytes(data, size);

  // The common-shape reader must say what ldns says wherever it answers.
  if (auto common = query_parse_common_shape(bytes)) {
    const auto full = query_parse_ldns(bytes);
    if (common->has_value() != full.has_value()) __builtin_trap();
    if (full.has_value() && !(**common == *full)) __builtin_trap();
    if (!full.has_value() && common->error() != full.error()) __builtin_trap();
  }

  // So must the records judged without ldns (A, AAAA, root OPT) on the answer path.
  if (section_records_check(bytes) != section_records_check_ldns(bytes)) __builtin_trap();

  auto query = query_parse(bytes);
  if (query) {
    std::vector<std::uint8_t> upstream;
    upstream_query_build_into(*query, upstream);
    auto servfail = reply_error(*query, Rcode::kServFail, Ede::kNetworkError);
    // The same bytes, QR set, as the upstream's answer to this very question (a query has
    // QR=0, so without the flip answer_check would refuse every input here).
    std::vector<std::uint8_t> as_answer(bytes.begin(), bytes.end());
    as_answer[2] |= 0x80;
    if (answer_check(as_answer, query->question)) {
      // As the resolver does on a miss: the stored form, then the reply at two sizes.
      if (auto stored = stored_answer_make(as_answer, TtlPolicy{})) {
        std::vector<std::uint8_t> reply;
        for (const std::size_t limit : {query->udp_reply_limit(), kMaxMessageSize}) {
          reply_build(stored->view(), *query, ReplyShape{.max_size = limit}, reply);
          if (reply.size() > limit) __builtin_trap();  // over the client's size: a bug
        }
      }
    }
    (void)upstream;
    (void)servfail;
  } else {
    auto rejection = reply_for_rejection(bytes, query.error());
    (void)rejection;
  }

  FrameAssembler frames;
  frames.feed(bytes);
  while (auto message = frames.next()) (void)query_parse(*message);
  return 0;
}
