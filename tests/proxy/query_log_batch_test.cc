#include "proxy/query_log_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "dns/reply.h"
#include "dns/test_packets.h"

namespace dp::proxy {
namespace {

using dns::testing::Bytes;

class ProxyQueryLogBatchTest : public ::testing::Test {
 protected:
  QueryLogBatch make() {
    return QueryLogBatch(
        loop_,
        [this](std::string chunk) {
          if (!writer_takes_) return false;
          chunks_.push_back(std::move(chunk));
          return true;
        },
        dropped_);
  }
  static Bytes reply() {
    const dns::Query query =
        dns::testing::parsed(dns::testing::query_build("www.example.", LDNS_RR_TYPE_A));
    return dns::reply_error(query, dns::Rcode::kNxDomain);
  }
  static std::size_t lines_in(const std::string& chunk) {
    return static_cast<std::size_t>(std::count(chunk.begin(), chunk.end(), '\n'));
  }

  io::EventLoop loop_;  // never run: the tests flush by hand
  const ClientRef client_{Transport::kUdp, 0, *SocketAddress::parse("127.0.0.1:5300"), 0};
  bool writer_takes_ = true;
  std::vector<std::string> chunks_;
  std::uint64_t dropped_ = 0;
};

TEST_F(ProxyQueryLogBatchTest, LinesAreGatheredAndHandedOverWholeOnFlush) {
  QueryLogBatch batch = make();
  batch.add(client_, reply());
  batch.add(client_, {});  // a dropped query has no line
  batch.add(client_, reply());
  EXPECT_EQ(batch.lines(), 2u);
  EXPECT_TRUE(chunks_.empty());  // not one hand-over per reply
  batch.flush();
  ASSERT_EQ(chunks_.size(), 1u);
  EXPECT_EQ(lines_in(chunks_[0]), 2u);
  EXPECT_EQ(batch.lines(), 0u);
  batch.flush();  // nothing gathered: nothing handed over
  EXPECT_EQ(chunks_.size(), 1u);
}

TEST_F(ProxyQueryLogBatchTest, AFullChunkIsHandedOverWithoutWaitingForTheTimer) {
  QueryLogBatch batch = make();
  std::size_t added = 0;
  while (chunks_.empty()) {
    batch.add(client_, reply());
    ASSERT_LT(++added, QueryLogBatch::kChunkBytes) << "never handed over";
  }
  ASSERT_EQ(chunks_.size(), 1u);
  EXPECT_GE(chunks_[0].size(), QueryLogBatch::kChunkBytes);
  EXPECT_LT(chunks_[0].size(), QueryLogBatch::kChunkBytes + 200);  // one line over at most
  EXPECT_EQ(lines_in(chunks_[0]), added);
  EXPECT_EQ(batch.lines(), 0u);
}

TEST_F(ProxyQueryLogBatchTest, AChunkTheWriterCannotTakeIsCountedLineByLine) {
  QueryLogBatch batch = make();
  writer_takes_ = false;
  for (int i = 0; i < 3; ++i) batch.add(client_, reply());
  batch.flush();
  EXPECT_EQ(dropped_, 3u);
  EXPECT_EQ(batch.lines(), 0u);
  writer_takes_ = true;
  batch.add(client_, reply());
  batch.flush();
  EXPECT_EQ(dropped_, 3u);
  ASSERT_EQ(chunks_.size(), 1u);
  EXPECT_EQ(lines_in(chunks_[0]), 1u);  // the dropped lines are not sent again
}

}  // namespace
}  // namespace dp::proxy
