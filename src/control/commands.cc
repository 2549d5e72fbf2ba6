#include "control/commands.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "cache/cache_key.h"
#include "common/log.h"
#include "dns/question_text.h"
#include "dnssec/records.h"
#include "proxy/metrics_page.h"
#include "proxy/status_http.h"
#include "upstream/transport.h"

namespace dp::control {
namespace {

constexpr std::size_t kQuestionTail = 4;  // QTYPE, QCLASS after the qname
// A worker busy past this is not waited for: its validator keeps those keys until they expire.
constexpr auto kWorkerWait = std::chrono::seconds(2);

// "removed 3", and the validator's key cache entries when there were any (summed over the
// workers: each has its own key cache).
std::string removed_text(std::size_t answers, std::size_t keys) {
  std::string out = "removed " + std::to_string(answers);
  if (keys > 0) out += " (and " + std::to_string(keys) + " DNSSEC key cache entries)";
  return out;
}

// A reply that is whole at once.
class TextReply final : public io::LineReply {
 public:
  explicit TextReply(std::string text, bool close = false) : text_(std::move(text)) {
    close_after = close;
  }
  bool next(std::string& out) override {
    out = std::move(text_);
    return false;
  }

 private:
  std::string text_;
};

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

std::uint16_t u16_at(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) << 8 |
                                    static_cast<unsigned char>(bytes[at + 1]));
}

// cache-dump: one slice of one shard per next(), so a shard's lock is held for
// kDumpSliceSlots slots at most and the reply goes out as the client reads it.
class DumpReply final : public io::LineReply {
 public:
  DumpReply(const cache::Cache& cache, std::optional<cache::QuestionMatch> filter,
            std::map<std::uint16_t, std::string> zones, std::size_t max_lines)
      : cache_(cache),
        filter_(std::move(filter)),
        zones_(std::move(zones)),
        max_lines_(max_lines) {}

  bool next(std::string& out) override {
    const TimePoint now = Clock::now();
    const bool more = cache_.visit(cursor_, kDumpSliceSlots, now, [&](const cache::EntryInfo& e) {
      if (filter_ && !filter_->matches(e.question)) return;
      if (lines_ >= max_lines_) {
        capped_ = true;
        return;
      }
      const auto zone = zones_.find(e.route_tag);
      out += dump_line(e, zone == zones_.end() ? std::string_view() : zone->second);
      ++lines_;
    });
    if (more && !capped_) return true;
    std::string summary = std::to_string(lines_) + " entries";
    if (capped_) summary += " (stopped at the cap of " + std::to_string(max_lines_) + " lines)";
    out += reply_ok(summary);
    return false;
  }

 private:
  const cache::Cache& cache_;
  std::optional<cache::QuestionMatch> filter_;
  std::map<std::uint16_t, std::string> zones_;
  std::size_t max_lines_;
  cache::VisitCursor cursor_;
  std::size_t lines_ = 0;
  bool capped_ = false;
};

// upstreams: each server of each route, summed over the workers that answered.
std::string upstreams_text(proxy::Server& server) {
  const proxy::MetricsInput in = proxy::metrics_gather(server);
  struct PerServer {
    std::string route;
    std::string name;
    std::string transport;
    std::size_t open = 0;
    std::size_t in_flight = 0;
    std::size_t usable = 0;
    double srtt_us_sum = 0;
    std::size_t srtt_samples = 0;
    std::chrono::milliseconds backoff_left{0};
    std::string last_failure;
    std::optional<std::chrono::milliseconds> last_failure_ago;
  };
  std::vector<PerServer> order;
  std::map<std::tuple<std::string, std::string, std::string>, std::size_t> index;
  for (const proxy::WorkerSnapshot& w : in.workers) {
    for (const proxy::RouteStatus& route : w.routes) {
      for (const upstream::UpstreamStatus& u : route.servers) {
        const std::string transport = upstream::transport_name(route.transport);
        const auto key = std::make_tuple(route.name, u.name, transport);
        auto found = index.find(key);
        if (found == index.end()) {
          found = index.emplace(key, order.size()).first;
          PerServer& added = order.emplace_back();
          added.route = route.name;
          added.name = u.name;
          added.transport = transport;
        }
        PerServer& p = order[found->second];
        p.open += u.open_connections;
        p.in_flight += u.in_flight;
        p.usable += u.usable ? 1 : 0;
        if (u.srtt) {
          p.srtt_us_sum += static_cast<double>(u.srtt->count());
          ++p.srtt_samples;
        }
        p.backoff_left = std::max(p.backoff_left, u.backoff_left);
        if (u.last_failure_ago &&
            (!p.last_failure_ago || *u.last_failure_ago < *p.last_failure_ago)) {
          p.last_failure_ago = u.last_failure_ago;
          p.last_failure = u.last_failure;
        }
      }
    }
  }
  std::string out;
  for (const PerServer& p : order) {
    out += "{\"route\":" + json_string(p.route.empty() ? "default" : p.route);
    out += ",\"upstream\":" + json_string(p.name);
    out += ",\"transport\":" + json_string(p.transport);
    out += ",\"open_connections\":" + std::to_string(p.open);
    out += ",\"in_flight\":" + std::to_string(p.in_flight);
    out += ",\"srtt_ms\":" +
           (p.srtt_samples == 0
                ? std::string("null")
                : number_text(p.srtt_us_sum / static_cast<double>(p.srtt_samples) / 1000.0));
    out += ",\"backoff_left_ms\":" + std::to_string(p.backoff_left.count());
    out += ",\"usable_workers\":" + std::to_string(p.usable);
    out += ",\"workers\":" + std::to_string(in.workers.size());
    out += ",\"last_failure\":" + (p.last_failure_ago ? json_string(p.last_failure) : "null");
    out +=
        ",\"last_failure_seconds_ago\":" +
        (p.last_failure_ago ? number_text(static_cast<double>(p.last_failure_ago->count()) / 1000.0)
                            : std::string("null"));
    out += "}\n";
  }
  return out + reply_ok(std::to_string(order.size()) + " upstreams");
}

std::string status_text(proxy::Server& server, const ControlContext& context) {
  const proxy::MetricsInput in = proxy::metrics_gather(server);
  std::string why;
  const bool ready = proxy::metrics_ready(in, &why);
  const auto uptime = std::chrono::duration_cast<std::chrono::seconds>(
      std::chrono::steady_clock::now() - context.started);
  std::string out = "{\"version\":" + json_string(context.version);
  out += ",\"uptime_seconds\":" + std::to_string(uptime.count());
  out += ",\"workers\":" + std::to_string(in.workers_configured);
  out += ",\"workers_answering\":" + std::to_string(in.workers.size());
  out += ",\"ready\":" + std::string(ready ? "true" : "false");
  out += ",\"why\":" + (ready ? std::string("null") : json_string(why));
  out += ",\"cache_entries\":" + (in.cache ? std::to_string(in.cache->entries) : "null");
  out += "}\n";
  return out + reply_ok(ready ? "ready" : "not ready: " + why);
}

std::unique_ptr<io::LineReply> command_run(const Request& request, ControlContext& context,
                                           bool& ok) {
  proxy::Server& server = *context.server;
  cache::Cache* cache = server.cache();
  ok = true;
  const auto error = [&ok](std::string_view reason) {
    ok = false;
    return std::make_unique<TextReply>(reply_error(reason));
  };
  switch (request.command) {
    case Command::kFlush:
    case Command::kFlushZone: {
      if (cache == nullptr) return error("caching is off (--cache-size 0)");
      const bool subtree = request.command == Command::kFlushZone;
      // The validator's keys too (as unbound-control's flush_zone does): after a zone's
      // DNSSEC is fixed, its next answers are judged with keys fetched afresh. Keys first: an
      // answer missed in between is then judged with new keys, not stored under the old ones.
      std::size_t keys = 0;
      if (!request.qtype || *request.qtype == dnssec::kTypeDnskey ||
          *request.qtype == dnssec::kTypeDs) {
        keys = server.dnssec_keys_forget(request.qname, subtree, kWorkerWait);
      }
      const std::size_t removed =
          cache->remove(cache::QuestionMatch{request.qname, request.qtype, subtree});
      return std::make_unique<TextReply>(reply_ok(removed_text(removed, keys)));
    }
    case Command::kFlushAll: {
      if (cache == nullptr) return error("caching is off (--cache-size 0)");
      const std::size_t keys = server.dnssec_keys_forget("", true, kWorkerWait);
      const std::size_t removed = cache->remove_all();
      return std::make_unique<TextReply>(reply_ok(removed_text(removed, keys)));
    }
    case Command::kCacheDump: {
      if (cache == nullptr) return error("caching is off (--cache-size 0)");
      std::optional<cache::QuestionMatch> filter;
      if (!request.qname.empty()) filter = cache::QuestionMatch{request.qname, std::nullopt, true};
      return std::make_unique<DumpReply>(*cache, std::move(filter), server.route_zones(),
                                         context.max_dump_lines);
    }
    case Command::kUpstreams:
      return std::make_unique<TextReply>(upstreams_text(server));
    case Command::kStats:
      return std::make_unique<TextReply>(proxy::metrics_render_json(proxy::metrics_gather(server)) +
                                         "\n" + reply_ok());
    case Command::kReload: {
      if (!context.reload) return error("reload is not available");
      const ReloadOutcome outcome = context.reload();
      if (!outcome.ok)
        return error("reload rejected, the running configuration stays: " + outcome.message);
      return std::make_unique<TextReply>(reply_ok(outcome.message));
    }
    case Command::kStatus:
      return std::make_unique<TextReply>(status_text(server, context));
  }
  return error("unknown command");
}

}  // namespace

std::string dump_line(const cache::EntryInfo& entry, std::string_view zone) {
  const std::string_view question = entry.question;
  std::string out = "{\"name\":";
  if (question.size() <= kQuestionTail) {  // an entry always has a question: cannot happen
    return out + "null}\n";
  }
  const std::size_t at = question.size() - kQuestionTail;
  out += json_string(dns::name_text(question.substr(0, at)));
  out += ",\"type\":" + json_string(dns::rr_type_text(u16_at(question, at)));
  out += ",\"class\":" + json_string(dns::rr_class_text(u16_at(question, at + 2)));
  out += ",\"do\":" + std::string((entry.key_flags & cache::kKeyFlagDo) != 0 ? "true" : "false");
  out += ",\"cd\":" + std::string((entry.key_flags & cache::kKeyFlagCd) != 0 ? "true" : "false");
  out += ",\"ttl\":" + std::to_string(entry.ttl_left_seconds);
  const char* state = entry.ttl_left_seconds > 0 ? "fresh"
                      : entry.stale_servable     ? "stale"
                                                 : "expired";
  out += ",\"state\":" + json_string(state);
  out += ",\"rcode\":" + json_string(dns::rcode_text(entry.rcode));
  out += ",\"bytes\":" + std::to_string(entry.bytes);
  out += ",\"route_tag\":" + std::to_string(entry.route_tag);
  if (entry.route_tag != 0) {
    out += ",\"zone\":" + (zone.empty() ? std::string("null") : json_string(zone));
  }
  return out + "}\n";
}

std::unique_ptr<io::LineReply> control_handle(std::string_view line, ControlContext& context) {
  auto request = request_parse(line);
  if (!request) {
    context.server->control_counters().add("invalid", false);
    return std::make_unique<TextReply>(reply_error(request.error()), /*close=*/true);
  }
  bool ok = true;
  std::unique_ptr<io::LineReply> reply;
  try {
    reply = command_run(*request, context, ok);
  } catch (const std::exception& e) {  // e.g. no memory for a reply: the client hears why
    ok = false;
    reply = std::make_unique<TextReply>(reply_error(std::string("internal error: ") + e.what()));
  }
  context.server->control_counters().add(command_name(request->command), ok);
  DP_LOG(kInfo, "control command", {"command", command_name(request->command)},
         {"result", ok ? "ok" : "error"});
  return reply;
}

std::unique_ptr<io::UnixLineServer> control_server_create(const std::string& path, uid_t owner,
                                                          gid_t group, ControlContext& context) {
  io::UnixLineServerOptions options;
  options.path = path;
  options.owner = owner;
  options.group = group;
  options.max_line_bytes = kMaxRequestBytes;
  options.max_connections = kMaxConnections;
  options.idle_timeout = kIdleTimeout;
  options.oversized_reply =
      reply_error("request longer than " + std::to_string(kMaxRequestBytes) + " bytes");
  options.busy_reply =
      reply_error("too many control connections (at most " + std::to_string(kMaxConnections) + ")");
  return std::make_unique<io::UnixLineServer>(
      std::move(options),
      [&context](std::string_view line) { return control_handle(line, context); });
}

}  // namespace dp::control
