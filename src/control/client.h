// `dotproxy ctl [--socket PATH] COMMAND [ARGS]`: the control channel's client, in the same
// binary. Blocking POSIX sockets with a timeout: it is a command-line tool, not the data plane.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace dp::control {

inline constexpr const char* kDefaultSocket = "/run/dotproxy/control.sock";
inline constexpr std::chrono::seconds kClientTimeout{30};  // connect, send, each read

// Runs the client with `args` (what follows "ctl"); `env_socket` is DOTPROXY_CONTROL_SOCKET
// ("" when unset). Data lines go to `out`, the final "ok" summary too; an error to `err` as
// "dotproxy ctl: REASON". Returns the exit code: 0 ok, 1 the server said error or could not
// be reached (why is said), 2 a usage error.
int ctl_run(const std::vector<std::string>& args, const std::string& env_socket, std::FILE* out,
            std::FILE* err);

}  // namespace dp::control
