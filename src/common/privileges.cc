#include "common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace dp {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error("user: " + what + ": " + std::strerror(errno));
}

}  // namespace

void privileges_drop(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) {
    throw std::runtime_error("user: no such user '" + user + "'");
  }
  if (::geteuid() != 0) {
    if (::geteuid() == found->pw_uid) return;  // already that user: nothing to drop
    throw std::runtime_error("user: switching to '" + user + "' needs root (running as uid " +
                             std::to_string(::geteuid()) + ")");
  }
  // Groups first: after setuid there is no permission left to change them.
  if (::initgroups(found->pw_name, found->pw_gid) != 0) fail("initgroups(" + user + ")");
  if (::setgid(found->pw_gid) != 0) fail("setgid(" + std::to_string(found->pw_gid) + ")");
  if (::setuid(found->pw_uid) != 0) fail("setuid(" + std::to_string(found->pw_uid) + ")");
  // setuid from root to non-root drops every uid, so this must fail: proof there is no way back.
  if (found->pw_uid != 0 && ::setuid(0) == 0) {
    throw std::runtime_error("user: root could be regained after switching to '" + user + "'");
  }
}

UserIds user_ids_find(const std::string& user) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  const int rc = ::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found);
  if (rc != 0 || found == nullptr) throw std::runtime_error("user: no such user '" + user + "'");
  return {found->pw_uid, found->pw_gid};
}

}  // namespace dp
