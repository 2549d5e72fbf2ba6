// Child processes for integration tests: spawn with output captured to files, bounded waits,
// and a port finder for servers that need one port free for both UDP and TCP.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/test_pki.h"

namespace dp::testing {

using EnvVars = std::vector<std::pair<std::string, std::string>>;

// A child started with fork/exec; owned by the test thread that created it. stdin is /dev/null,
// stdout/stderr go to files in a private TempDir. The child gets SIGKILL if the thread that
// spawned it dies (PR_SET_PDEATHSIG), so a crashed test leaves no strays. The destructor
// terminates and reaps it.
class Process {
 public:
  // argv[0] is looked up in PATH. `env` adds to (or overrides) the current environment.
  // Throws std::runtime_error if fork/pipe/open fail or the program cannot be executed.
  explicit Process(std::vector<std::string> argv, const EnvVars& env = {});
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Exit code (128 + signal number if killed by a signal); nullopt if still running at timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code as wait_exit() does.
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));
  // Sends any signal (e.g. SIGHUP); no-op once reaped.
  void signal(int signo);

  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::string& stdout_file() const { return stdout_file_; }
  const std::string& stderr_file() const { return stderr_file_; }
  // Polls stdout until it contains `needle`; false at timeout or if the child exits first.
  bool wait_for_stdout(std::string_view needle, std::chrono::milliseconds timeout);

 private:
  TempDir dir_;
  std::string stdout_file_;
  std::string stderr_file_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;  // set once reaped
};

struct CaptureResult {
  int exit_code = -1;  // -1: killed at timeout
  std::string out;
  std::string err;
};

// Runs a short command (dig, kdig, ...) to completion; kills it at `timeout`.
CaptureResult run_capture(std::vector<std::string> argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

// A port on 127.0.0.1 that was free for both TCP and UDP a moment ago (bound, then closed).
// Another process may still take it: callers retry on bind failure. Throws after 50 tries.
std::uint16_t free_port_udp_tcp();

// Reads a whole file; "" if it does not exist.
std::string read_file_text(const std::string& path);

}  // namespace dp::testing
