// A fake Upstream: records every resolve() call; the test answers, fails or drops each one.
#pragma once

#include <cstdint>
#include <vector>

#include "upstream/upstream.h"

namespace dp::testing {

class FakeUpstream final : public upstream::Upstream {
 public:
  struct Call {
    std::vector<std::uint8_t> query;
    dns::Question question;
    Callback done;
  };

  void resolve(std::span<const std::uint8_t> query, const dns::Question& question,
               Callback done) override {
    calls.push_back(Call{{query.begin(), query.end()}, question, std::move(done)});
  }

  void answer(std::size_t i, const std::vector<std::uint8_t>& wire) {
    calls.at(i).done(upstream::UpstreamResult(std::span<const std::uint8_t>(wire)));
  }
  void fail(std::size_t i, upstream::UpstreamError error) {
    calls.at(i).done(upstream::UpstreamResult(unexpected(error)));
  }

  std::vector<Call> calls;
};

}  // namespace dp::testing
