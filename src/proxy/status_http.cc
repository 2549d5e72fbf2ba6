#include "proxy/status_http.h"

#include <chrono>

#include "common/check.h"
#include "proxy/metrics_page.h"

namespace dp::proxy {
namespace {

constexpr std::chrono::milliseconds kWorkerAnswerTimeout{1'000};  // a stuck worker: left out

}  // namespace

MetricsInput metrics_gather(Server& server) {
  MetricsInput in;
  in.workers = server.snapshot(kWorkerAnswerTimeout);
  in.workers_configured = server.worker_count();
  if (const cache::Cache* cache = server.cache()) {
    in.cache = cache->stats();
    in.cache_budget_bytes = cache->options().max_bytes;
  }
  in.bugs = bug_count();
  in.control = server.control_counters().read();
  in.now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  return in;
}

std::unique_ptr<io::HttpServer> status_http_create(const SocketAddress& address, Server& server) {
  return std::make_unique<io::HttpServer>(address, [&server](std::string_view path) {
    if (path == "/metrics") {
      return io::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                              metrics_render(metrics_gather(server))};
    }
    if (path == "/healthz") return io::HttpResponse{200, "text/plain; charset=utf-8", "ok\n"};
    if (path == "/readyz") {
      std::string why;
      const MetricsInput input = metrics_gather(server);
      if (metrics_ready(input, &why)) {
        const std::string note = metrics_dnssec_note(input);
        return io::HttpResponse{200, "text/plain; charset=utf-8",
                                note.empty() ? "ready\n" : "ready; " + note + "\n"};
      }
      return io::HttpResponse{503, "text/plain; charset=utf-8", "not ready: " + why + "\n"};
    }
    return io::HttpResponse{404, "text/plain; charset=utf-8",
                            "not found: try /metrics, /healthz or /readyz\n"};
  });
}

}  // namespace dp::proxy
