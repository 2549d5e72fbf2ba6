#include "integration/fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

namespace dp::testing {
TempDir* IntegrationTest::pki_dir_ = nullptr;
TestPki* IntegrationTest::pki_ = nullptr;

// One HTTP/1.0 GET on 127.0.0.1 (the metrics and health endpoints); status 0 when nothing
// sensible came back. Reads with a 5 s timeout, a bound on a failing test.
HttpReply http_get(std::uint16_t port, const std::string& path) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  HttpReply reply;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return reply;
  }
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  (void)::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) text.append(buffer, n);
  ::close(fd);
  if (text.rfind("HTTP/1.", 0) != 0 || text.size() < 12) return reply;
  reply.status = std::stoi(text.substr(9, 3));
  const auto body = text.find("\r\n\r\n");
  if (body != std::string::npos) reply.body = text.substr(body + 4);
  return reply;
}

}  // namespace dp::testing
