// The HTTP endpoint operators and orchestrators read: /metrics (Prometheus), /healthz (the
// process answers) and /readyz (listening, and an upstream usable), on --metrics-listen.
#pragma once

#include <memory>

#include "common/socket_address.h"
#include "io/http_server.h"
#include "proxy/metrics_page.h"
#include "proxy/server.h"

namespace dp::proxy {

// What a scrape shows: every worker's snapshot (a worker that does not answer within a second
// left out), the cache's counters, the bug count. Waits for the workers: not on a worker's
// thread.
MetricsInput metrics_gather(Server& server);

// Bound, not started. `server` must outlive it. Throws std::runtime_error if it cannot bind.
std::unique_ptr<io::HttpServer> status_http_create(const SocketAddress& address, Server& server);

}  // namespace dp::proxy
