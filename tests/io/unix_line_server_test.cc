#include "io/unix_line_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "fakes/test_pki.h"
#include "fakes/unix_stream_client.h"

namespace dp::io {
namespace {

using Client = testing::UnixStreamClient;

// Replies "got LINE" in `parts` pieces; "bye" asks for the connection to close after.
class EchoReply final : public LineReply {
 public:
  EchoReply(std::string line, int parts) : line_(std::move(line)), parts_(parts) {
    close_after = line_ == "bye";
  }
  bool next(std::string& out) override {
    if (--parts_ > 0) {
      out += std::string(1024, 'x') + "\n";
      return true;
    }
    out += "got " + line_ + "\n";
    return false;
  }

 private:
  std::string line_;
  int parts_;
};

class UnixLineServerTest : public ::testing::Test {
 protected:
  std::unique_ptr<UnixLineServer> make(int parts = 1, std::size_t max_connections = 4) {
    UnixLineServerOptions options;
    options.path = path_;
    options.max_line_bytes = 32;
    options.max_connections = max_connections;
    options.oversized_reply = "error too long\n";
    options.busy_reply = "error busy\n";
    auto server = std::make_unique<UnixLineServer>(options, [parts](std::string_view line) {
      return std::make_unique<EchoReply>(std::string(line), parts);
    });
    server->start();
    return server;
  }

  dp::testing::TempDir dir_{"unix-line-server"};
  std::string path_ = dir_.path() + "/control.sock";
};

TEST_F(UnixLineServerTest, RequestsOnOneConnectionGetTheirRepliesInTurn) {
  auto server = make();
  Client client(path_);
  ASSERT_TRUE(client.connected());
  client.send("status\nflush a.example\r\n");
  EXPECT_EQ(client.read_until("got flush a.example\n"), "got status\ngot flush a.example\n");
}

TEST_F(UnixLineServerTest, TheSocketIsModeSixHundredAndGoesWithTheServer) {
  auto server = make();
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server.reset();
  EXPECT_NE(::stat(path_.c_str(), &st), 0);
}

TEST_F(UnixLineServerTest, ALongReplyStreamsWhole) {
  auto server = make(/*parts=*/2000);  // some 2 MB, far beyond the socket's buffers
  Client client(path_);
  client.send("dump\n");
  const std::string reply = client.read_until("got dump\n");
  EXPECT_EQ(reply.size(), 1999u * 1025 + std::string("got dump\n").size());
}

TEST_F(UnixLineServerTest, AnOversizedRequestGetsTheErrorAndTheConnectionCloses) {
  auto server = make();
  Client client(path_);
  client.send(std::string(34, 'a'));  // no newline yet, already too long even with a "\r"
  EXPECT_EQ(client.read_until("\n"), "error too long\n");
  EXPECT_TRUE(client.closed_by_server());

  Client whole(path_);
  whole.send(std::string(40, 'b') + "\n");
  EXPECT_EQ(whole.read_until("\n"), "error too long\n");
  EXPECT_TRUE(whole.closed_by_server());

  Client one_over(path_);  // 33 bytes, the last not a "\r"
  one_over.send(std::string(33, 'd') + "\n");
  EXPECT_EQ(one_over.read_until("\n"), "error too long\n");
  EXPECT_TRUE(one_over.closed_by_server());

  Client at_limit(path_);  // 32 bytes and "\r\n": within the limit
  at_limit.send(std::string(32, 'c') + "\r\n");
  EXPECT_EQ(at_limit.read_until("\n"), "got " + std::string(32, 'c') + "\n");
}

TEST_F(UnixLineServerTest, AReplyMarkedCloseAfterEndsTheConnection) {
  auto server = make();
  Client client(path_);
  client.send("bye\nstatus\n");
  EXPECT_EQ(client.read_until("\n"), "got bye\n");
  EXPECT_TRUE(client.closed_by_server());  // "status" never answered
}

TEST_F(UnixLineServerTest, ConnectionsBeyondTheCapAreRefusedWithALine) {
  auto server = make(1, /*max_connections=*/2);
  Client first(path_);
  Client second(path_);
  first.send("one\n");  // both surely accepted once answered
  second.send("two\n");
  EXPECT_EQ(first.read_until("\n"), "got one\n");
  EXPECT_EQ(second.read_until("\n"), "got two\n");
  Client third(path_);
  EXPECT_EQ(third.read_until("\n"), "error busy\n");
  EXPECT_TRUE(third.closed_by_server());
  // The first two are still served.
  first.send("again\n");
  EXPECT_EQ(first.read_until("\n"), "got again\n");
}

TEST_F(UnixLineServerTest, AStaleSocketIsReplacedButALiveOneIsAnError) {
  {  // a socket file whose process is gone: bound, never unlinked
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path_.data(), path_.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ::close(fd);
  }
  auto server = make();
  Client client(path_);
  client.send("x\n");
  EXPECT_EQ(client.read_until("\n"), "got x\n");
  try {
    make();
    FAIL() << "a second server on a live socket";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("another process is listening on " + path_),
              std::string::npos)
        << e.what();
  }
  // The refused one did not remove the live one's file.
  Client still(path_);
  still.send("y\n");
  EXPECT_EQ(still.read_until("\n"), "got y\n");
}

TEST_F(UnixLineServerTest, AMissingDirectoryOrAFileInTheWayIsAnError) {
  path_ = dir_.path() + "/no-such-dir/control.sock";
  try {
    make();
    FAIL() << "no directory";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(
        std::string(e.what()).find("directory " + dir_.path() + "/no-such-dir does not exist"),
        std::string::npos)
        << e.what();
  }
  path_ = dir_.file("plain-file");
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fclose(f);
  }
  try {
    make();
    FAIL() << "a regular file";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exists and is not a socket"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace dp::io
