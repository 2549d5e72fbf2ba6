#include "integration/dotproxy_process.h"

#include <stdexcept>
#include <thread>

namespace dp::testing {

std::string dotproxy_binary() { return DOTPROXY_BIN; }

DotproxyProcess::DotproxyProcess(const std::vector<std::string>& args, const EnvVars& env) {
  std::vector<std::string> argv = {dotproxy_binary(), "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<Process>(argv, env);
  // The "dotproxy started" line, in logfmt or in JSON (--log-format json).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string text = log();
    for (const std::string marker : {"listen=127.0.0.1:", "\"listen\":\"127.0.0.1:"}) {
      const auto at = text.find(marker);
      if (at == std::string::npos) continue;
      port_ = static_cast<std::uint16_t>(std::stoi(text.substr(at + marker.size())));
      for (const std::string metrics : {"metrics=", "\"metrics\":\""}) {
        const auto m = text.find(metrics + "127.0.0.1:");
        if (m != std::string::npos) {
          metrics_port_ = static_cast<std::uint16_t>(
              std::stoi(text.substr(m + metrics.size() + std::string("127.0.0.1:").size())));
        }
      }
      const std::string tls_marker = "listen_tls=127.0.0.1:";
      const auto tls_at = text.find(tls_marker);
      if (tls_at != std::string::npos) {
        tls_port_ = static_cast<std::uint16_t>(std::stoi(text.substr(tls_at + tls_marker.size())));
      }
      return;
    }
    if (!process_->running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("dotproxy did not start: " + log());
}

bool DotproxyProcess::wait_for_log(std::string_view needle,
                                   std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  do {
    if (log().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  } while (std::chrono::steady_clock::now() < deadline);
  return false;
}

}  // namespace dp::testing
