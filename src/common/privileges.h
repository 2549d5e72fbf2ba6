// Dropping root after the sockets are bound: the process keeps its bound ports and runs on as
// an ordinary user.
#pragma once

#include <sys/types.h>

#include <string>

namespace dp {

// Switches the process to `user`'s uid, gid and supplementary groups (and HOME-independent:
// nothing else changes). Must run before any thread starts. Throws std::runtime_error with
// one line: unknown user, not root, or a failed set*id call with errno's text.
void privileges_drop(const std::string& user);

struct UserIds {
  uid_t uid = 0;
  gid_t gid = 0;  // the user's primary group
};
// `user`'s ids, for files made before the drop that the user must own (the control socket).
// Throws std::runtime_error "user: no such user 'NAME'".
UserIds user_ids_find(const std::string& user);

}  // namespace dp
