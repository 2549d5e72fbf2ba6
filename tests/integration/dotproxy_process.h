// The real dotproxy binary as a child process on a kernel-chosen loopback port.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/process.h"

namespace dp::testing {

// The dotproxy binary this build made (set by meson).
std::string dotproxy_binary();

// Owned by one test. Starts `dotproxy --listen 127.0.0.1:0 ARGS...`, waits until its
// "dotproxy started" line names the port, and stops it (SIGTERM) on destruction.
class DotproxyProcess {
 public:
  // Throws std::runtime_error with dotproxy's output if it exits or does not start in 10 s.
  explicit DotproxyProcess(const std::vector<std::string>& args, const EnvVars& env = {});

  std::uint16_t port() const { return port_; }
  // The --metrics-listen port when it was given as 127.0.0.1:0 (or any 127.0.0.1 port); 0 if off.
  std::uint16_t metrics_port() const { return metrics_port_; }
  // The DoT listener's port when started with --listen-tls 127.0.0.1:0; 0 when off.
  std::uint16_t tls_port() const { return tls_port_; }
  std::string log() const { return process_->stderr_text(); }
  // Polls the log until it contains needle.
  bool wait_for_log(std::string_view needle, std::chrono::milliseconds timeout) const;
  Process& process() { return *process_; }

 private:
  std::unique_ptr<Process> process_;
  std::uint16_t port_ = 0;
  std::uint16_t metrics_port_ = 0;
  std::uint16_t tls_port_ = 0;
};

}  // namespace dp::testing
