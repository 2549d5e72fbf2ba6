#include "proxy/query_log.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dns/question_text.h"
#include "dns/reply.h"
#include "dns/test_packets.h"
#include "fakes/process.h"

namespace dp::proxy {
namespace {

using dns::testing::Bytes;

TEST(ProxyQueryLogTest, ALineSaysWhoAskedWhatAndWhatCameBack) {
  const dns::Query query =
      dns::testing::parsed(dns::testing::query_build("WwW.Ex\\032ample.", LDNS_RR_TYPE_AAAA));
  const Bytes reply = dns::reply_error(query, dns::Rcode::kNxDomain);
  std::string line;
  query_log_line(line, ClientRef{Transport::kTcp, 0, *SocketAddress::parse("[::1]:5300"), 3}, reply,
                 "cluster.local");
  EXPECT_EQ(line.rfind("time=", 0), 0u) << line;
  EXPECT_NE(line.find(" client=[::1]:5300 transport=tcp name=WwW.Ex\\032ample. type=AAAA "
                      "route=cluster.local rcode=NXDOMAIN size="),
            std::string::npos)
      << line;
  EXPECT_EQ(line.substr(line.size() - 6), " tc=0\n");
  std::string none;
  query_log_line(none, ClientRef{}, Bytes{});  // a dropped query has no line
  EXPECT_TRUE(none.empty());
}

TEST(ProxyQueryLogTest, UnknownTypesAreWrittenAsRfc3597Mnemonics) {
  const Bytes query = dns::testing::query_build("a.example.", static_cast<ldns_rr_type>(65400));
  const auto text = dns::question_text(query);
  ASSERT_TRUE(text);
  EXPECT_EQ(text->type, "TYPE65400");
  EXPECT_EQ(text->name, "a.example.");
}

TEST(ProxyQueryLogTest, TheWriterAppendsEveryChunkAndRefusesBeyondItsBound) {
  testing::TempDir dir("dotproxy-qlog");
  const std::string path = dir.path() + "/query.log";
  std::ofstream(path) << "kept\n";  // appended to, never truncated
  {
    QueryLogWriter writer(path);
    EXPECT_TRUE(writer.submit("one\n"));
    EXPECT_TRUE(writer.submit("two\n"));
    EXPECT_FALSE(writer.submit(std::string(QueryLogWriter::kMaxQueuedBytes + 1, 'x')));
  }  // the destructor writes what is queued
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  EXPECT_EQ(text.str(), "kept\none\ntwo\n");
  EXPECT_THROW(QueryLogWriter(dir.path() + "/no/such/dir/q.log"), std::runtime_error);
}

}  // namespace
}  // namespace dp::proxy
