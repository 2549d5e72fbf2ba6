// The forwarded-query path of one worker's pool: resolve() → StreamConnection (ID, framing, TLS)
// → an in-memory DoT server → answer checked and matched → callback. Counts the heap
// allocations the client side makes per query; the server's are left out.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/alloc_count.h"
#include "dns/framing.h"
#include "dns/message.h"
#include "dns/upstream_query.h"
#include "dns/wire.h"
#include "fakes/memory_dot_server.h"
#include "fakes/shared_pki.h"
#include "fakes/synthetic_zone.h"
#include "upstream/pool.h"

namespace dp::upstream {
namespace {

using testing::Bytes;

// The allocations made inside a scope, added to `excluded`: the server's share.
class Excluded {
 public:
  Excluded(std::uint64_t& allocs, std::uint64_t& mallocs)
      : allocs_(allocs), mallocs_(mallocs), a0_(bench::allocations()), m0_(bench::mallocs()) {}
  ~Excluded() {
    allocs_ += bench::allocations() - a0_;
    mallocs_ += bench::mallocs() - m0_;
  }
  Excluded(const Excluded&) = delete;
  Excluded& operator=(const Excluded&) = delete;

 private:
  std::uint64_t& allocs_;
  std::uint64_t& mallocs_;
  std::uint64_t a0_, m0_;
};

// A DoT server in memory that answers every query with one precomputed answer (ID copied).
// Its bytes reach the client only from deliver(), never from inside write().
class BenchStream final : public io::ByteStream {
 public:
  BenchStream(const testing::MemoryServerOptions& options, const Bytes& answer,
              std::uint64_t& allocs, std::uint64_t& mallocs)
      : tls_(options), answer_(answer), allocs_(allocs), mallocs_(mallocs) {}

  void connect(const SocketAddress&, Handler& handler) override {
    handler_ = &handler;
    connect_due_ = true;
  }
  void write(std::span<const std::uint8_t> bytes) override {
    Excluded server(allocs_, mallocs_);
    tls_.feed(bytes);
    if (!tls_.handshake_done()) {
      tls_.handshake();
      if (!tls_.handshake_done()) return take();
    }
    frames_.feed(tls_.read());
    while (auto message = frames_.next()) {
      dns::wire_set_id(answer_, dns::wire_get_id(*message));
      frame_.clear();
      dns::frame_append(frame_, answer_);
      tls_.write(frame_);
    }
    take();
  }
  std::size_t write_pending() const override { return 0; }
  void write_soon() override {  // it sends at once
    if (handler_ != nullptr) handler_->on_stream_flush();
  }
  void close() override { handler_ = nullptr; }

  // Hands the client what the server sent; false when there was nothing.
  bool deliver() {
    if (handler_ == nullptr) return false;
    if (connect_due_) {
      connect_due_ = false;
      handler_->on_stream_connected();
      return true;
    }
    if (to_client_.empty()) return false;
    delivering_.swap(to_client_);
    handler_->on_stream_data(delivering_);
    delivering_.clear();
    return true;
  }

 private:
  void take() {
    const Bytes out = tls_.take_output();
    to_client_.insert(to_client_.end(), out.begin(), out.end());
  }

  testing::MemoryTlsServer tls_;
  Bytes answer_;
  std::uint64_t& allocs_;
  std::uint64_t& mallocs_;
  Handler* handler_ = nullptr;
  bool connect_due_ = false;
  dns::FrameAssembler frames_;
  Bytes frame_;
  Bytes to_client_;
  Bytes delivering_;
};

void BM_PoolForwardToMemoryDot(benchmark::State& state) {
  const auto& pki = testing::SharedPki::get();
  testing::MemoryServerOptions server;
  server.cert_file = pki.pki.good.cert_file;
  server.key_file = pki.pki.good.key_file;
  Bytes query;
  dns::upstream_query_build_into(*dns::query_parse(testing::dot_query("host-0001.example.test")),
                                 query);
  const dns::Question question = dns::query_parse(query)->question;
  const Bytes answer = testing::zone_answer(query);

  std::uint64_t excluded_allocs = 0;
  std::uint64_t excluded_mallocs = 0;
  BenchStream* stream = nullptr;
  io::EventLoop loop;
  SteadyTimeSource clock;
  PoolOptions options;
  options.connections_per_upstream = 1;
  Pool pool(loop, clock, Transport::kTls,
            {ServerSpec{*SocketAddress::parse("127.0.0.1:853"), testing::kSharedPkiName}},
            pki.credentials, options, [&]() -> std::unique_ptr<io::ByteStream> {
              auto s =
                  std::make_unique<BenchStream>(server, answer, excluded_allocs, excluded_mallocs);
              stream = s.get();
              return s;
            });
  pool.start();
  while (stream->deliver()) {
  }
  benchmark::IterationCount answers = 0;
  auto run = [&] {
    pool.resolve(query, question, [&answers](const UpstreamResult& result) {
      if (result) ++answers;
    });
    while (stream->deliver()) {
    }
  };
  for (int i = 0; i < 100; ++i) run();  // warm: TLS tickets, buffers
  answers = 0;
  const std::uint64_t allocs0 = bench::allocations() - excluded_allocs;
  const std::uint64_t mallocs0 = bench::mallocs() - excluded_mallocs;
  for (auto _ : state) run();
  const auto per_query = [&](std::uint64_t n) {
    return benchmark::Counter(static_cast<double>(n) / static_cast<double>(state.iterations()));
  };
  state.counters["allocs_per_query"] = per_query(bench::allocations() - excluded_allocs - allocs0);
  state.counters["mallocs_per_query"] = per_query(bench::mallocs() - excluded_mallocs - mallocs0);
  if (answers != state.iterations()) state.SkipWithError("not every query was answered");
}
BENCHMARK(BM_PoolForwardToMemoryDot);

}  // namespace
}  // namespace dp::upstream
