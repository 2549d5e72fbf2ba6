// A network namespace of a test's own, on one thread (tests that need a port range, an
// address or a port 53 nothing else on the machine sees).
#pragma once

#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <thread>

namespace dp::testing {

// A network namespace holds only a loopback that is down; clients and servers need it up.
// "" on success, else what failed.
inline std::string loopback_up() {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  std::string error;
  if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
    error = std::string("SIOCGIFFLAGS lo: ") + std::strerror(errno);
  } else {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0) {
      error = std::string("SIOCSIFFLAGS lo: ") + std::strerror(errno);
    }
  }
  close(fd);
  return error;
}

// Runs `body` on a thread of its own in a new, unnamed network namespace: unshare(CLONE_NEWNET)
// moves only the calling thread, so the rest of the test binary stays where it was. Sockets the
// body opens, /proc/sys/net files it writes and processes it starts (fork copies the thread's
// namespaces) live in there. The namespace has no name to clean up: the kernel frees it when
// its last thread, process and socket are gone (a Process child has PR_SET_PDEATHSIG).
// Returns "" once body has run, or why the namespace could not be made (body did not run).
inline std::string run_in_new_netns(const std::function<void()>& body) {
  std::string error;
  std::thread thread([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      error = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return;
    }
    error = loopback_up();
    if (!error.empty()) return;
    try {
      body();
    } catch (const std::exception& e) {  // gtest catches exceptions on its own thread only
      ADD_FAILURE() << "exception: " << e.what();
    }
  });
  thread.join();
  return error;
}

}  // namespace dp::testing
