// Dropping root after the sockets are bound: the process keeps its bound ports and runs on as
// an ordinary user.
#pragma once

#include <string>

namespace dp {

// Switches the process to `user`'s uid, gid and supplementary groups (and HOME-independent:
// nothing else changes). Must run before any thread starts. Throws std::runtime_error with
// one line: unknown user, not root, or a failed set*id call with errno's text.
void privileges_drop(const std::string& user);

}  // namespace dp
