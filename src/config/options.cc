#include "config/options.h"

#include <algorithm>
#include <array>

#include "config/forward_zone.h"
#include "config/load.h"
#include "config/units.h"
#include "config/upstream_spec.h"
#include "config/value_error.h"
#include "dns/record_text.h"

namespace dp::config {
namespace {

using std::chrono::milliseconds;

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

std::string_view dnssec_mode_name(DnssecMode mode) {
  switch (mode) {
    case DnssecMode::kOff:
      return "off";
    case DnssecMode::kPermissive:
      return "permissive";
    case DnssecMode::kValidate:
      return "validate";
  }
  return "validate";
}

std::uint64_t count_in(std::string_view text, std::uint64_t min, std::uint64_t max,
                       std::string_view note = "") {
  const auto n = count_parse(text);
  if (!n || *n < min || *n > max)
    throw ValueError(quoted(text) + " is not a whole number from " + std::to_string(min) + " to " +
                     std::to_string(max) + std::string(note));
  return *n;
}

bool bool_in(std::string_view text) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  throw ValueError(quoted(text) + " is not true or false");
}

void set_acl_rule(Config& c, std::string_view text) {
  auto rule = policy::acl_rule_parse(text);
  if (!rule) throw ValueError(quoted(text) + ": " + rule.error());
  c.acl.push_back(*rule);
}

// `max_text` is the limit as the user would write it ("60s" rather than "1m").
milliseconds duration_in(std::string_view text, std::string_view max_text) {
  const auto d = duration_parse(text);
  if (!d) throw ValueError(quoted(text) + " is not a duration (e.g. 500ms, 3s)");
  if (d->count() <= 0 || *d > duration_parse(max_text).value())
    throw ValueError(quoted(text) + " is not from 1ms to " + std::string(max_text));
  return *d;
}

// A TTL-like setting: whole seconds from `min` to `max_text` (0 allowed when min is 0).
std::chrono::seconds seconds_in(std::string_view text, std::chrono::seconds min,
                                std::string_view max_text) {
  const auto d = duration_parse(text);
  if (!d) throw ValueError(quoted(text) + " is not a duration (e.g. 30s, 1h, 1d)");
  const auto max = duration_parse(max_text).value();
  if (*d < min || *d > max)
    throw ValueError(quoted(text) + " is not from " + duration_format(min) + " to " +
                     std::string(max_text));
  if (d->count() % 1000 != 0) throw ValueError(quoted(text) + " is not whole seconds");
  return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

std::string seconds_text(std::chrono::seconds s) {
  return s.count() == 0 ? "0" : duration_format(s);
}

constexpr std::uint64_t kMaxCacheSize = 1ULL << 40;  // 1 TiB: a typo, not a cache

template <class T>
std::string joined(const std::vector<T>& items, std::string (*text)(const T&)) {
  std::string out;
  for (const T& item : items) out += (out.empty() ? "" : ", ") + text(item);
  return out;
}

void set_listen(Config& c, std::string_view text) {
  const auto address = SocketAddress::parse(text);
  if (!address) throw ValueError(quoted(text) + " is not ADDR:PORT (IPv6 as [::1]:53)");
  c.listen.push_back(*address);
}

void set_listen_tls(Config& c, std::string_view text) {
  const auto address = SocketAddress::parse(text);
  if (!address) throw ValueError(quoted(text) + " is not ADDR:PORT (IPv6 as [::1]:853)");
  c.listen_tls.push_back(*address);
}

void set_log_level(Config& c, std::string_view text) {
  const auto level = log::level_parse(text);
  if (!level) throw ValueError(quoted(text) + " is not a log level (error, warn, info, debug)");
  c.log_level = *level;
}

// RFC-less but fixed by the kernel: a Unix socket path fits sockaddr_un's sun_path (108
// bytes with its NUL).
constexpr std::size_t kMaxUnixSocketPath = 107;

void set_dnstap(Config& c, std::string_view text) {
  constexpr std::string_view kFile = "file:";
  if (text.substr(0, kFile.size()) == kFile) {
    if (text.size() == kFile.size()) throw ValueError(quoted(text) + " names no file (file:PATH)");
  } else if (text.empty()) {
    throw ValueError("'' is not a Unix socket path or file:PATH");
  } else if (text.size() > kMaxUnixSocketPath) {
    throw ValueError(quoted(text) + " is longer than a Unix socket path may be (107 bytes)");
  }
  c.dnstap = text;
}

void set_dnstap_messages(Config& c, std::string_view text) {
  DnstapMessages out{false, false, false, false};
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string_view item = text.substr(start, end - start);
    if (item == "all") {
      out = DnstapMessages{};
    } else if (item == "client-query") {
      out.client_query = true;
    } else if (item == "client-response") {
      out.client_response = true;
    } else if (item == "forwarder-query") {
      out.forwarder_query = true;
    } else if (item == "forwarder-response") {
      out.forwarder_response = true;
    } else {
      throw ValueError(quoted(item) +
                       " is not a dnstap message type (client-query, client-response, "
                       "forwarder-query, forwarder-response, all)");
    }
    start = end + 1;
  }
  c.dnstap_messages = out;
}

std::string dnstap_messages_text(const Config& c) {
  const DnstapMessages& m = c.dnstap_messages;
  if (m == DnstapMessages{}) return "all";
  std::string out;
  const auto add = [&out](bool on, const char* name) {
    if (on) out += (out.empty() ? "" : ",") + std::string(name);
  };
  add(m.client_query, "client-query");
  add(m.client_response, "client-response");
  add(m.forwarder_query, "forwarder-query");
  add(m.forwarder_response, "forwarder-response");
  return out;
}

[[noreturn]] void toml_fail(std::string_view file, const toml::node& node, std::string_view key,
                            const std::string& problem) {
  throw ConfigError(toml_where(file, node) + std::string(key) + ": " + problem);
}

// One item of the file's upstream list: an [[upstream]] table, or a spec string as on the
// command line. Each key (each pin) is checked here so that an error points at its own line.
void upstream_toml_set(Config& c, const toml::node& node, std::string_view file) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {  // upstream = ["1.1.1.1#name"] also works
    c.upstreams.push_back(upstream_spec_parse(toml_scalar_text(node)));
    return;
  }
  std::string address;
  std::int64_t port = kDotPort;
  UpstreamConfig upstream;
  for (const auto& [key, value] : *table) {
    const std::string name = "upstream." + std::string(key.str());
    if (key == "address") {
      const auto* s = value.as_string();
      if (s == nullptr || !SocketAddress::from_ip(s->get(), kDotPort))
        toml_fail(file, value, name, "expected an IP address as a string, e.g. \"1.1.1.1\"");
      address = s->get();
    } else if (key == "port") {
      const auto* i = value.as_integer();
      if (i == nullptr || i->get() < 1 || i->get() > 65535)
        toml_fail(file, value, name, "expected a whole number from 1 to 65535");
      port = i->get();
    } else if (key == "auth_name") {
      const auto* s = value.as_string();
      if (s == nullptr || !hostname_plausible(s->get()))
        toml_fail(file, value, name,
                  "expected a host name (letters, digits, '-', '.'; at most 253 characters)");
      upstream.auth_name = s->get();
    } else if (key == "pin_sha256") {
      // One pin as a bare string is taken too; an empty set would silently pin nothing.
      const auto* items = value.as_array();
      if (items != nullptr && items->empty())
        toml_fail(file, value, name, "expected at least one pin (or no pin_sha256 at all)");
      const auto add_pin = [&](const toml::node& item) {
        const auto* s = item.as_string();
        if (s == nullptr)
          toml_fail(file, item, name, "expected base64 strings, e.g. [\"Gr6f...hQg=\"]");
        try {
          upstream.pins.push_back(pin_sha256_parse(s->get()));
        } catch (const ValueError& e) {
          toml_fail(file, item, name, e.what());
        }
      };
      if (items != nullptr) {
        for (const toml::node& item : *items) add_pin(item);
      } else {
        add_pin(value);
      }
    } else if (key == "tls_min_version") {
      const auto* s = value.as_string();
      const auto version = s != nullptr ? tls_version_parse(s->get()) : std::nullopt;
      if (!version) toml_fail(file, value, name, "expected \"1.2\" or \"1.3\" as a string");
      upstream.tls_min_version = *version;
    } else {
      throw ConfigError(toml_where(file, value) + "unknown key '" + name + "'");
    }
  }
  if (address.empty()) toml_fail(file, node, "upstream", "missing 'address'");
  upstream.address = *SocketAddress::from_ip(address, static_cast<std::uint16_t>(port));
  c.upstreams.push_back(std::move(upstream));
}

// One item of the file's forward_zone list: a [[forward_zone]] table, or a spec string as on the
// command line. Each key is checked here so that an error points at its own line; what concerns
// the zone as a whole points at the table.
void forward_zone_toml_set(Config& c, const toml::node& node, std::string_view file) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {  // forward_zone = ["corp.example tcp 10.0.0.53"] also works
    forward_zone_add(c.forward_zones, forward_zone_parse(toml_scalar_text(node)));
    return;
  }
  ForwardZoneConfig zone;
  const toml::node* transport_node = nullptr;
  const toml::node* servers_node = nullptr;
  std::vector<std::array<std::uint8_t, 32>> pins;
  std::optional<TlsVersion> tls_min_version;
  const toml::node* tls_only_node = nullptr;  // pin_sha256 or tls_min_version, for its line
  const auto as_bool = [&](const toml::node& value, const std::string& name) {
    const auto* b = value.as_boolean();
    if (b == nullptr) toml_fail(file, value, name, "expected true or false");
    return b->get();
  };
  for (const auto& [key, value] : *table) {
    const std::string name = "forward_zone." + std::string(key.str());
    if (key == "zone") {
      const auto* s = value.as_string();
      if (s == nullptr) toml_fail(file, value, name, "expected a zone name as a string");
      try {
        zone.zone = zone_name_parse(s->get());
      } catch (const ValueError& e) {
        toml_fail(file, value, name, e.what());
      }
    } else if (key == "transport") {
      const auto* s = value.as_string();
      const auto transport = s != nullptr ? zone_transport_parse(s->get()) : std::nullopt;
      if (!transport)
        toml_fail(file, value, name,
                  (s != nullptr ? "unknown transport '" + s->get() + "'; " : std::string()) +
                      "expected \"tls\", \"tcp\", \"udp\" or \"upstream\"");
      zone.transport = *transport;
      transport_node = &value;
    } else if (key == "servers") {
      if (!value.is_array())
        toml_fail(file, value, name, "expected an array of \"ADDR[@PORT][#AUTH_NAME]\" strings");
      servers_node = &value;
    } else if (key == "cache") {
      zone.cache = as_bool(value, name);
    } else if (key == "dnssec") {
      zone.dnssec = as_bool(value, name);
    } else if (key == "allow_public_plain") {
      zone.allow_public_plain = as_bool(value, name);
    } else if (key == "max_negative_ttl") {
      try {
        zone.max_negative_ttl = seconds_in(toml_scalar_text(value), std::chrono::seconds(0), "1d");
      } catch (const ValueError& e) {
        toml_fail(file, value, name, e.what());
      }
    } else if (key == "pin_sha256") {
      const auto* items = value.as_array();
      if (items == nullptr || items->empty())
        toml_fail(file, value, name, "expected an array of base64 strings, e.g. [\"Gr6f...hQg=\"]");
      for (const toml::node& item : *items) {
        const auto* s = item.as_string();
        if (s == nullptr)
          toml_fail(file, item, name, "expected base64 strings, e.g. [\"Gr6f...hQg=\"]");
        try {
          pins.push_back(pin_sha256_parse(s->get()));
        } catch (const ValueError& e) {
          toml_fail(file, item, name, e.what());
        }
      }
      tls_only_node = &value;
    } else if (key == "tls_min_version") {
      const auto* s = value.as_string();
      tls_min_version = s != nullptr ? tls_version_parse(s->get()) : std::nullopt;
      if (!tls_min_version) toml_fail(file, value, name, "expected \"1.2\" or \"1.3\" as a string");
      tls_only_node = &value;
    } else {
      throw ConfigError(toml_where(file, value) + "unknown key '" + name + "'");
    }
  }
  if (zone.zone.empty()) toml_fail(file, node, "forward_zone", "missing 'zone'");
  if (transport_node == nullptr)
    toml_fail(file, node, "forward_zone",
              "zone '" + zone.zone + "': missing 'transport' (tls, tcp, udp or upstream)");
  if (tls_only_node != nullptr && zone.transport != ZoneTransport::kTls)
    toml_fail(file, *tls_only_node, "forward_zone",
              "zone '" + zone.zone + "': pin_sha256 and tls_min_version are for transport tls");
  if (servers_node != nullptr) {
    for (const toml::node& item : *servers_node->as_array()) {
      const auto* s = item.as_string();
      if (s == nullptr)
        toml_fail(file, item, "forward_zone.servers",
                  "expected \"ADDR[@PORT][#AUTH_NAME]\" strings");
      try {
        UpstreamConfig server = zone_server_parse(s->get(), zone.transport);
        server.pins = pins;
        if (tls_min_version) server.tls_min_version = *tls_min_version;
        zone.servers.push_back(std::move(server));
      } catch (const ValueError& e) {
        toml_fail(file, item, "forward_zone.servers", e.what());
      }
    }
  }
  forward_zone_check(zone);  // ValueError: reported at the table's line
  forward_zone_add(c.forward_zones, std::move(zone));
}

void set_local_data(Config& c, std::string_view text) {
  // Read now so that a bad line is reported where it was given (flag, variable or file:line).
  const auto record = dns::record_text_parse(text);
  if (!record) throw ValueError(quoted(text) + ": " + record.error());
  c.local_data.emplace_back(text);
}

std::string strings_or_none(const std::vector<std::string>& items) {
  return items.empty() ? std::string("none")
                       : joined<std::string>(items, [](const std::string& s) { return s; });
}

constexpr std::uint64_t kMaxWorkers = 1024;

constexpr std::array kOptions{
    Option{.flag = "--config",
           .env = "DOTPROXY_CONFIG",
           .value_name = "FILE",
           .help = "TOML file to read settings from; unknown keys are an error.",
           .show_unset = "none"},
    Option{.flag = "--listen",
           .env = "DOTPROXY_LISTEN",
           .toml_key = "listen",
           .value_name = "ADDR:PORT",
           .help = "Address for DNS clients over UDP and TCP, IPv6 as [::1]:53. Repeatable.",
           .list = true,
           .set = set_listen,
           .clear = [](Config& c) { c.listen.clear(); },
           .show =
               [](const Config& c) {
                 return joined<SocketAddress>(c.listen,
                                              [](const SocketAddress& a) { return a.to_string(); });
               }},
    Option{.flag = "--listen-tls",
           .env = "DOTPROXY_LISTEN_TLS",
           .toml_key = "listen_tls",
           .value_name = "ADDR:PORT",
           .help = "Address for DNS-over-TLS clients (RFC 7858; port 853 by convention), e.g. "
                   "0.0.0.0:853; needs --tls-cert and --tls-key. Repeatable; none: no listener.",
           .list = true,
           .set = set_listen_tls,
           .clear = [](Config& c) { c.listen_tls.clear(); },
           .show =
               [](const Config& c) {
                 return c.listen_tls.empty()
                            ? std::string("none")
                            : joined<SocketAddress>(c.listen_tls, [](const SocketAddress& a) {
                                return a.to_string();
                              });
               }},
    Option{.flag = "--tls-cert",
           .env = "DOTPROXY_TLS_CERT",
           .toml_key = "tls_cert",
           .value_name = "FILE",
           .help = "PEM certificate chain (leaf first) the DoT listener presents.",
           .set = [](Config& c, std::string_view t) { c.tls_cert_file = t; },
           .show_unset = "none"},
    Option{.flag = "--tls-key",
           .env = "DOTPROXY_TLS_KEY",
           .toml_key = "tls_key",
           .value_name = "FILE",
           .help = "PEM private key of --tls-cert.",
           .set = [](Config& c, std::string_view t) { c.tls_key_file = t; },
           .show_unset = "none"},
    Option{.flag = "--tls-client-ca",
           .env = "DOTPROXY_TLS_CLIENT_CA",
           .toml_key = "tls_client_ca",
           .value_name = "FILE",
           .help = "PEM CAs for mutual TLS: DoT clients must present a certificate (client auth) "
                   "chaining to one of them, or the handshake fails. Unset: no client "
                   "certificate asked for.",
           .set = [](Config& c, std::string_view t) { c.tls_client_ca_file = t; },
           .show_unset = "none"},
    Option{.flag = "--tls-handshake-rate",
           .env = "DOTPROXY_TLS_HANDSHAKE_RATE",
           .toml_key = "tls_handshake_rate",
           .value_name = "N",
           .help = "New TLS handshakes per second per client IP address, with a burst of as many, "
                   "per worker, 0 to 1000000; over it, new TLS connections are closed at accept. "
                   "0: no limit.",
           .set =
               [](Config& c, std::string_view t) {
                 c.tls_handshake_rate = static_cast<unsigned>(count_in(t, 0, 1'000'000));
               },
           .show = [](const Config& c) { return std::to_string(c.tls_handshake_rate); }},
    Option{
        .flag = "--upstream",
        .env = "DOTPROXY_UPSTREAM",
        .toml_key = "upstream",
        .value_name = "SPEC",
        .help = "DNS-over-TLS server as ADDR[@PORT][#AUTH_NAME] (port 853 by default; "
                "AUTH_NAME is checked against its certificate). Repeatable. In the file: "
                "[[upstream]] tables with address, port, auth_name, and two keys of the file "
                "only: pin_sha256 (base64 SPKI SHA-256 pins; one must match a certificate of "
                "the chain, on top of the CA and name checks) and tls_min_version (\"1.2\" "
                "by default, or \"1.3\").",
        .list = true,
        .set = [](Config& c, std::string_view t) { c.upstreams.push_back(upstream_spec_parse(t)); },
        .clear = [](Config& c) { c.upstreams.clear(); },
        .show =
            [](const Config& c) {
              return joined<UpstreamConfig>(c.upstreams,
                                            [](const UpstreamConfig& u) { return u.display(); });
            },
        .toml_set = upstream_toml_set},
    Option{.flag = "--ca-file",
           .env = "DOTPROXY_CA_FILE",
           .toml_key = "ca_file",
           .value_name = "FILE",
           .help = "PEM bundle of CAs that upstream certificates must chain to.",
           .set = [](Config& c, std::string_view t) { c.ca_file = t; },
           .show =
               [](const Config& c) {
                 return c.ca_file.empty() ? std::string("system store") : c.ca_file;
               }},
    Option{.flag = "--log-level",
           .env = "DOTPROXY_LOG_LEVEL",
           .toml_key = "log_level",
           .value_name = "LEVEL",
           .help = "Least severe log level written: error, warn, info or debug.",
           .set = set_log_level,
           .show = [](const Config& c) { return std::string(log::level_name(c.log_level)); }},
    Option{.flag = "--log-format",
           .env = "DOTPROXY_LOG_FORMAT",
           .toml_key = "log_format",
           .value_name = "FORMAT",
           .help = "Log lines as logfmt (key=value) or json (one object per line).",
           .set =
               [](Config& c, std::string_view t) {
                 const auto format = log::format_parse(t);
                 if (!format) throw ValueError(quoted(t) + " is not logfmt or json");
                 c.log_format = *format;
               },
           .show = [](const Config& c) { return std::string(log::format_name(c.log_format)); }},
    Option{.flag = "--metrics-listen",
           .env = "DOTPROXY_METRICS_LISTEN",
           .toml_key = "metrics_listen",
           .value_name = "ADDR:PORT",
           .help = "Serve Prometheus /metrics, /healthz and /readyz over HTTP here (e.g. "
                   "127.0.0.1:9153); off unless set. Anyone who reaches it sees the counters.",
           .set =
               [](Config& c, std::string_view t) {
                 const auto address = SocketAddress::parse(t);
                 if (!address)
                   throw ValueError(quoted(t) + " is not ADDR:PORT (IPv6 as [::1]:9153)");
                 c.metrics_listen = *address;
               },
           .show =
               [](const Config& c) {
                 return c.metrics_listen ? c.metrics_listen->to_string() : std::string("off");
               }},
    Option{
        .flag = "--query-log",
        .env = "DOTPROXY_QUERY_LOG",
        .toml_key = "query_log",
        .value_name = "FILE",
        .help = "Append one line per answered query (time, client, name, type, rcode, "
                "source) to FILE, written by a thread of its own; lines that would not fit "
                "its bounded buffer are dropped and counted. Off unless set.",
        .set = [](Config& c, std::string_view t) { c.query_log = t; },
        .show =
            [](const Config& c) { return c.query_log.empty() ? std::string("off") : c.query_log; }},
    Option{
        .flag = "--dnstap",
        .env = "DOTPROXY_DNSTAP",
        .toml_key = "dnstap",
        .value_name = "PATH",
        .help = "Write dnstap (Frame Streams, protobuf:dnstap.Dnstap) to a collector's Unix "
                "socket at PATH, or to a file with file:PATH (truncated at start), from a "
                "thread of its own; messages that would not fit its bounded queues are "
                "dropped and counted. Off unless set.",
        .set = set_dnstap,
        .show = [](const Config& c) { return c.dnstap.empty() ? std::string("off") : c.dnstap; }},
    Option{.flag = "--dnstap-messages",
           .env = "DOTPROXY_DNSTAP_MESSAGES",
           .toml_key = "dnstap_messages",
           .value_name = "LIST",
           .help = "dnstap message types written, comma-separated: client-query, "
                   "client-response, forwarder-query, forwarder-response, or all.",
           .set = set_dnstap_messages,
           .show = dnstap_messages_text},
    Option{.flag = "--dnstap-identity",
           .env = "DOTPROXY_DNSTAP_IDENTITY",
           .toml_key = "dnstap_identity",
           .value_name = "TEXT",
           .help = "The identity field of every dnstap frame (at most 255 bytes).",
           .set =
               [](Config& c, std::string_view t) {
                 if (t.empty() || t.size() > 255)
                   throw ValueError(quoted(t) + " is not 1 to 255 bytes");
                 c.dnstap_identity = t;
               },
           .show =
               [](const Config& c) {
                 return c.dnstap_identity.empty() ? std::string("the host name")
                                                  : c.dnstap_identity;
               }},
    Option{.flag = "--control-socket",
           .env = "DOTPROXY_CONTROL_SOCKET",
           .toml_key = "control_socket",
           .value_name = "PATH",
           .help = "Serve the operator control channel (`dotproxy ctl`: flush, cache-dump, "
                   "upstreams, stats, reload, status) on this Unix socket, mode 0600 and owned "
                   "by the --user; its directory must exist. Off unless set.",
           .set =
               [](Config& c, std::string_view t) {
                 // sockaddr_un's sun_path: 108 bytes with the final NUL on Linux.
                 if (t.empty() || t.size() > 107) {
                   throw ValueError(quoted(t) + " is not a socket path of 1 to 107 bytes");
                 }
                 c.control_socket = t;
               },
           .show =
               [](const Config& c) {
                 return c.control_socket.empty() ? std::string("off") : c.control_socket;
               }},
    Option{.flag = "--user",
           .env = "DOTPROXY_USER",
           .toml_key = "user",
           .value_name = "NAME",
           .help = "Started as root: switch to this user (and its groups) once every socket is "
                   "bound. Files read on SIGHUP must then be readable by it.",
           .set = [](Config& c, std::string_view t) { c.user = t; },
           .show = [](const Config& c) { return c.user.empty() ? std::string("none") : c.user; }},
    Option{.flag = "--drain-timeout",
           .env = "DOTPROXY_DRAIN_TIMEOUT",
           .toml_key = "drain_timeout",
           .value_name = "DUR",
           .help = "On SIGTERM or SIGINT: stop accepting, then give queries in flight this long "
                   "to be answered before exiting (1ms to 60s).",
           .set = [](Config& c, std::string_view t) { c.drain_timeout = duration_in(t, "60s"); },
           .show = [](const Config& c) { return duration_format(c.drain_timeout); }},
    Option{.flag = "--workers",
           .env = "DOTPROXY_WORKERS",
           .toml_key = "workers",
           .value_name = "N",
           .help = "Worker threads, 0 to 1024; 0: one per CPU.",
           .set =
               [](Config& c, std::string_view t) {
                 c.workers =
                     static_cast<unsigned>(count_in(t, 0, kMaxWorkers, " (0: one per CPU)"));
               },
           .show = [](const Config& c) { return std::to_string(c.workers); }},
    Option{.flag = "--tcp-idle-timeout",
           .env = "DOTPROXY_TCP_IDLE_TIMEOUT",
           .toml_key = "tcp_idle_timeout",
           .value_name = "DUR",
           .help = "Close a client TCP connection idle this long (1ms to 1h; e.g. 10s).",
           .set = [](Config& c, std::string_view t) { c.tcp_idle_timeout = duration_in(t, "1h"); },
           .show = [](const Config& c) { return duration_format(c.tcp_idle_timeout); }},
    Option{
        .flag = "--max-tcp-clients",
        .env = "DOTPROXY_MAX_TCP_CLIENTS",
        .toml_key = "max_tcp_clients",
        .value_name = "N",
        .help = "Client TCP connections per worker, 1 to 1000000; beyond, new ones are closed.",
        .set = [](Config& c, std::string_view t) { c.max_tcp_clients = count_in(t, 1, 1'000'000); },
        .show = [](const Config& c) { return std::to_string(c.max_tcp_clients); }},
    Option{.flag = "--max-tcp-queries-per-client",
           .env = "DOTPROXY_MAX_TCP_QUERIES_PER_CLIENT",
           .toml_key = "max_tcp_queries_per_client",
           .value_name = "N",
           .help = "Pipelined queries in flight per client TCP connection, 1 to 65535.",
           .set = [](Config& c,
                     std::string_view t) { c.max_tcp_queries_per_client = count_in(t, 1, 65535); },
           .show = [](const Config& c) { return std::to_string(c.max_tcp_queries_per_client); }},
    Option{.flag = "--max-tcp-clients-per-address",
           .env = "DOTPROXY_MAX_TCP_CLIENTS_PER_ADDRESS",
           .toml_key = "max_tcp_clients_per_address",
           .value_name = "N",
           .help = "Client TCP connections per worker from one IP address, 1 to 1000000; beyond, "
                   "new ones from it are closed, so one host cannot take every slot.",
           .set =
               [](Config& c, std::string_view t) {
                 c.max_tcp_clients_per_address = count_in(t, 1, 1'000'000);
               },
           .show = [](const Config& c) { return std::to_string(c.max_tcp_clients_per_address); }},
    Option{.flag = "--tcp-read-timeout",
           .env = "DOTPROXY_TCP_READ_TIMEOUT",
           .toml_key = "tcp_read_timeout",
           .value_name = "DUR",
           .help = "A client must send a whole query within this long of its first byte (1ms to "
                   "1h); a client trickling bytes is closed.",
           .set = [](Config& c, std::string_view t) { c.tcp_read_timeout = duration_in(t, "1h"); },
           .show = [](const Config& c) { return duration_format(c.tcp_read_timeout); }},
    Option{.flag = "--upstream-timeout",
           .env = "DOTPROXY_UPSTREAM_TIMEOUT",
           .toml_key = "upstream_timeout",
           .value_name = "DUR",
           .help = "Answer SERVFAIL to a query its upstreams leave unanswered this long "
                   "(1ms to 60s; e.g. 500ms, 3s; a bare number is seconds). Connect + TLS "
                   "handshake get half of it (at most 2s), so an unreachable upstream leaves "
                   "time to fail over; a connection with queries in flight and no answer "
                   "for this long is taken for dead.",
           .set = [](Config& c, std::string_view t) { c.upstream_timeout = duration_in(t, "60s"); },
           .show = [](const Config& c) { return duration_format(c.upstream_timeout); }},
    Option{
        .flag = "--upstream-connections",
        .env = "DOTPROXY_UPSTREAM_CONNECTIONS",
        .toml_key = "upstream_connections",
        .value_name = "N",
        .help = "TLS connections per upstream per worker, 1 to 64.",
        .set = [](Config& c, std::string_view t) { c.upstream_connections = count_in(t, 1, 64); },
        .show = [](const Config& c) { return std::to_string(c.upstream_connections); }},
    Option{.flag = "--max-queries-per-connection",
           .env = "DOTPROXY_MAX_QUERIES_PER_CONNECTION",
           .toml_key = "max_queries_per_connection",
           .value_name = "N",
           .help = "Pipelined queries in flight on one upstream TLS connection, 1 to 4096.",
           .set = [](Config& c,
                     std::string_view t) { c.max_queries_per_connection = count_in(t, 1, 4096); },
           .show = [](const Config& c) { return std::to_string(c.max_queries_per_connection); }},
    Option{
        .flag = "--max-pending-queries",
        .env = "DOTPROXY_MAX_PENDING_QUERIES",
        .toml_key = "max_pending_queries",
        .value_name = "N",
        .help = "Queries awaiting an upstream per worker, 1 to 1048576; beyond, SERVFAIL at once.",
        .set = [](Config& c,
                  std::string_view t) { c.max_pending_queries = count_in(t, 1, 1 << 20); },
        .show = [](const Config& c) { return std::to_string(c.max_pending_queries); }},
    Option{.flag = "--servfail-failover",
           .env = "DOTPROXY_SERVFAIL_FAILOVER",
           .toml_key = "servfail_failover",
           .value_name = "BOOL",
           .help = "Retry a SERVFAIL or REFUSED answer on another upstream (true or false); "
                   "NXDOMAIN is an answer and never retried.",
           .set = [](Config& c, std::string_view t) { c.servfail_failover = bool_in(t); },
           .show =
               [](const Config& c) { return std::string(c.servfail_failover ? "true" : "false"); }},
    Option{.flag = "--cache-size",
           .env = "DOTPROXY_CACHE_SIZE",
           .toml_key = "cache_size",
           .value_name = "SIZE",
           .help = "Bytes the cache may hold, its entries and index together, e.g. 64M, 512K, "
                   "1G (binary units; KiB, MiB, GiB too); 0: no cache.",
           .set =
               [](Config& c, std::string_view t) {
                 const auto size = size_parse(t);
                 if (!size || *size > kMaxCacheSize)
                   throw ValueError(quoted(t) + " is not a size from 0 to 1TiB (e.g. 64M)");
                 c.cache_size = *size;
               },
           .show = [](const Config& c) { return size_format(c.cache_size); }},
    Option{
        .flag = "--min-ttl",
        .env = "DOTPROXY_MIN_TTL",
        .toml_key = "min_ttl",
        .value_name = "DUR",
        .help = "Shortest TTL a positive answer is cached with and handed out with, 0 to 1d "
                "(whole seconds).",
        .set = [](Config& c,
                  std::string_view t) { c.min_ttl = seconds_in(t, std::chrono::seconds(0), "1d"); },
        .show = [](const Config& c) { return seconds_text(c.min_ttl); }},
    Option{
        .flag = "--max-ttl",
        .env = "DOTPROXY_MAX_TTL",
        .toml_key = "max_ttl",
        .value_name = "DUR",
        .help = "Longest TTL a positive answer is cached with and handed out with, 1s to 30d.",
        .set =
            [](Config& c, std::string_view t) {
              c.max_ttl = seconds_in(t, std::chrono::seconds(1), "30d");
            },
        .show = [](const Config& c) { return seconds_text(c.max_ttl); }},
    Option{
        .flag = "--max-negative-ttl",
        .env = "DOTPROXY_MAX_NEGATIVE_TTL",
        .toml_key = "max_negative_ttl",
        .value_name = "DUR",
        .help = "Longest an NXDOMAIN or NODATA answer is cached, 0 to 1d; below it, the "
                "lesser of its SOA's TTL and MINIMUM (RFC 2308 §5). 0: never cached.",
        .set =
            [](Config& c, std::string_view t) {
              c.max_negative_ttl = seconds_in(t, std::chrono::seconds(0), "1d");
            },
        .show = [](const Config& c) { return seconds_text(c.max_negative_ttl); }},
    Option{
        .flag = "--servfail-ttl",
        .env = "DOTPROXY_SERVFAIL_TTL",
        .toml_key = "servfail_ttl",
        .value_name = "DUR",
        .help = "How long a SERVFAIL (or other failure) answer and an upstream timeout are "
                "cached, and a failed refresh waits before it is tried again, 1s to 5m "
                "(RFC 9520 §3.2).",
        .set =
            [](Config& c, std::string_view t) {
              c.servfail_ttl = seconds_in(t, std::chrono::seconds(1), "5m");
            },
        .show = [](const Config& c) { return seconds_text(c.servfail_ttl); }},
    Option{.flag = "--serve-stale",
           .env = "DOTPROXY_SERVE_STALE",
           .toml_key = "serve_stale",
           .value_name = "BOOL",
           .help = "Answer from an expired entry (TTL 30, EDE 3 Stale Answer) when the upstream "
                   "fails or is slower than --stale-client-timeout, and refresh it in the "
                   "background (RFC 8767).",
           .set = [](Config& c, std::string_view t) { c.serve_stale = bool_in(t); },
           .show = [](const Config& c) { return std::string(c.serve_stale ? "true" : "false"); }},
    Option{
        .flag = "--max-stale",
        .env = "DOTPROXY_MAX_STALE",
        .toml_key = "max_stale",
        .value_name = "DUR",
        .help = "An entry expired longer ago than this is never served, 1s to 30d.",
        .set =
            [](Config& c, std::string_view t) {
              c.max_stale = seconds_in(t, std::chrono::seconds(1), "30d");
            },
        .show = [](const Config& c) { return seconds_text(c.max_stale); }},
    Option{.flag = "--stale-client-timeout",
           .env = "DOTPROXY_STALE_CLIENT_TIMEOUT",
           .toml_key = "stale_client_timeout",
           .value_name = "DUR",
           .help = "How long a client whose answer is stale in the cache waits for the upstream "
                   "before it gets the stale one, 1ms to 60s (RFC 8767 §5 client-response timer).",
           .set = [](Config& c,
                     std::string_view t) { c.stale_client_timeout = duration_in(t, "60s"); },
           .show = [](const Config& c) { return duration_format(c.stale_client_timeout); }},
    Option{.flag = "--prefetch",
           .env = "DOTPROXY_PREFETCH",
           .toml_key = "prefetch",
           .value_name = "BOOL",
           .help = "Refresh an entry in the background when it is hit in the last 10 % of its "
                   "TTL, so popular names never expire for clients.",
           .set = [](Config& c, std::string_view t) { c.prefetch = bool_in(t); },
           .show = [](const Config& c) { return std::string(c.prefetch ? "true" : "false"); }},
    Option{
        .flag = "--acl",
        .env = "DOTPROXY_ACL",
        .toml_key = "acl",
        .value_name = "RULE",
        .help = "Who may query: \"ADDR[/LEN] allow|refuse|drop\", first match wins, no match "
                "is refused (REFUSED with EDE 18). Repeatable; replaces the default list.",
        .list = true,
        .set = set_acl_rule,
        .clear = [](Config& c) { c.acl.clear(); },
        .show = [](const Config&) { return std::string("loopback and private ranges allowed"); }},
    Option{
        .flag = "--rate-limit",
        .env = "DOTPROXY_RATE_LIMIT",
        .toml_key = "rate_limit",
        .value_name = "QPS",
        .help = "UDP queries per second per client /24 (IPv4) or /56 (IPv6), 0 to 10000000; "
                "0: no limit. Over it, queries are dropped or slipped (see --rate-limit-slip).",
        .set =
            [](Config& c, std::string_view t) {
              c.rate_limit.queries_per_second = static_cast<double>(count_in(t, 0, 10'000'000));
            },
        .show =
            [](const Config& c) {
              return std::to_string(static_cast<std::uint64_t>(c.rate_limit.queries_per_second));
            }},
    Option{
        .flag = "--rate-limit-burst",
        .env = "DOTPROXY_RATE_LIMIT_BURST",
        .toml_key = "rate_limit_burst",
        .value_name = "N",
        .help = "Queries a client network may send at once above the rate, 0 to 10000000; 0: "
                "one second's worth.",
        .set =
            [](Config& c, std::string_view t) {
              c.rate_limit.burst = static_cast<double>(count_in(t, 0, 10'000'000));
            },
        .show =
            [](const Config& c) {
              return std::to_string(static_cast<std::uint64_t>(c.rate_limit.burst));
            }},
    Option{
        .flag = "--rate-limit-slip",
        .env = "DOTPROXY_RATE_LIMIT_SLIP",
        .toml_key = "rate_limit_slip",
        .value_name = "N",
        .help = "Over the limit, every Nth query gets an empty TC=1 reply so a real client "
                "retries over TCP (which a spoofed source cannot), 0 to 100; 0: drop all.",
        .set =
            [](Config& c, std::string_view t) {
              c.rate_limit.slip = static_cast<unsigned>(count_in(t, 0, 100));
            },
        .show = [](const Config& c) { return std::to_string(c.rate_limit.slip); }},
    Option{.flag = "--local-zones",
           .env = "DOTPROXY_LOCAL_ZONES",
           .toml_key = "local_zones",
           .value_name = "BOOL",
           .help = "Answer localhost, invalid, home.arpa and the private and special reverse "
                   "zones here (RFC 6761, 6303, 8375) instead of sending them upstream.",
           .set = [](Config& c, std::string_view t) { c.local_zones = bool_in(t); },
           .show = [](const Config& c) { return std::string(c.local_zones ? "true" : "false"); }},
    Option{.flag = "--blocklist",
           .env = "DOTPROXY_BLOCKLIST",
           .toml_key = "blocklist",
           .value_name = "FILE",
           .help = "File of names to block, each with every name under it: one a line, or "
                   "hosts-file lines (0.0.0.0 NAME...); '#' comments. Re-read on SIGHUP. "
                   "Repeatable.",
           .list = true,
           .set = [](Config& c, std::string_view t) { c.blocklist.emplace_back(t); },
           .clear = [](Config& c) { c.blocklist.clear(); },
           .show =
               [](const Config& c) {
                 return c.blocklist.empty()
                            ? std::string("none")
                            : joined<std::string>(c.blocklist,
                                                  [](const std::string& f) { return f; });
               }},
    Option{
        .flag = "--blocklist-answer",
        .env = "DOTPROXY_BLOCKLIST_ANSWER",
        .toml_key = "blocklist_answer",
        .value_name = "ANSWER",
        .help = "Reply to a blocked name: nxdomain, or null (A 0.0.0.0, AAAA ::, no records "
                "for other types); both with EDE 15 Blocked.",
        .set =
            [](Config& c, std::string_view t) {
              const auto answer = dns::blocked_answer_parse(t);
              if (!answer) throw ValueError(quoted(t) + " is not nxdomain or null");
              c.blocklist_answer = *answer;
            },
        .show =
            [](const Config& c) {
              return std::string(dns::blocked_answer_name(c.blocklist_answer));
            }},
    Option{
        .flag = "--forward-zone",
        .env = "DOTPROXY_FORWARD_ZONE",
        .toml_key = "forward_zone",
        .value_name = "SPEC",
        .help = "Send ZONE and the names under it to its own servers: \"ZONE TRANSPORT SERVER "
                "[SERVER...]\", TRANSPORT tls (DoT, port 853, each SERVER needs #AUTH_NAME), "
                "tcp or udp (plain DNS, port 53; servers must be IPs in loopback, private, "
                "IPv4 link-local or unique-local ranges, never IPv6 link-local) or upstream (no "
                "servers: back to the "
                "default upstreams, for an exception inside a forwarded zone). The longest "
                "matching zone wins; a zone takes over the built-in local zones under it, but "
                "never localhost, invalid or the loopback reverse zones. Repeatable. In the "
                "file: [[forward_zone]] tables with zone, transport, servers, and keys of the "
                "file only: cache (false: not cached), max_negative_ttl, allow_public_plain, "
                "dnssec (true: validated, else its answers count as insecure), "
                "pin_sha256 and tls_min_version (tls, as in [[upstream]]).",
        .list = true,
        .set = [](Config& c,
                  std::string_view t) { forward_zone_add(c.forward_zones, forward_zone_parse(t)); },
        .clear = [](Config& c) { c.forward_zones.clear(); },
        .show =
            [](const Config& c) {
              return c.forward_zones.empty() ? std::string("none")
                                             : joined<ForwardZoneConfig>(
                                                   c.forward_zones, [](const ForwardZoneConfig& z) {
                                                     return z.display();
                                                   });
            },
        .toml_set = forward_zone_toml_set},
    Option{
        .flag = "--dnssec",
        .env = "DOTPROXY_DNSSEC",
        .toml_key = "dnssec",
        .value_name = "MODE",
        .help = "DNSSEC validation: validate (bogus answers are SERVFAIL with an EDE), "
                "permissive (validated and counted, bogus answers still served) or off (the "
                "upstream's answers as they come).",
        .set =
            [](Config& c, std::string_view t) {
              if (t == "validate") {
                c.dnssec = DnssecMode::kValidate;
              } else if (t == "permissive") {
                c.dnssec = DnssecMode::kPermissive;
              } else if (t == "off") {
                c.dnssec = DnssecMode::kOff;
              } else {
                throw ValueError(quoted(t) + " is not validate, permissive or off");
              }
            },
        .show = [](const Config& c) { return std::string(dnssec_mode_name(c.dnssec)); }},
    Option{.flag = "--trust-anchor",
           .env = "DOTPROXY_TRUST_ANCHOR",
           .toml_key = "trust_anchor",
           .value_name = "FILE",
           .help = "DS or DNSKEY records in zone-file text (e.g. /usr/share/dns/root.ds) that "
                   "replace the built-in root anchors (KSK-2017 and KSK-2024).",
           .set = [](Config& c, std::string_view t) { c.trust_anchor_file = std::string(t); },
           .show =
               [](const Config& c) {
                 return c.trust_anchor_file.empty() ? std::string("built in") : c.trust_anchor_file;
               }},
    Option{.flag = "--insecure-domain",
           .env = "DOTPROXY_INSECURE_DOMAIN",
           .toml_key = "insecure_domains",
           .value_name = "NAME",
           .help = "A negative trust anchor (RFC 7646): names at or under it are not validated "
                   "(insecure, never AD). Repeatable; re-read on SIGHUP.",
           .list = true,
           .set = [](Config& c,
                     std::string_view t) { c.insecure_domains.push_back(zone_name_parse(t)); },
           .clear = [](Config& c) { c.insecure_domains.clear(); },
           .show = [](const Config& c) { return strings_or_none(c.insecure_domains); }},
    Option{.flag = "--local-data",
           .env = "DOTPROXY_LOCAL_DATA",
           .toml_key = "local_data",
           .value_name = "RECORD",
           .help = "A record answered here with AA=1, never sent upstream: \"NAME [TTL] TYPE "
                   "RDATA\" in zone-file format, class IN, TTL 3600 unless given; other types "
                   "of the name are resolved as usual. Repeatable (the environment's items are "
                   "comma-separated, so an RDATA with a comma goes on the command line or in "
                   "the file).",
           .list = true,
           .cli_commas = false,
           .set = set_local_data,
           .clear = [](Config& c) { c.local_data.clear(); },
           .show = [](const Config& c) { return strings_or_none(c.local_data); }},
    Option{.flag = "--hosts",
           .env = "DOTPROXY_HOSTS",
           .toml_key = "hosts",
           .value_name = "FILE",
           .help = "hosts(5) file answered here like --local-data: each name gets A or AAAA, "
                   "each address a PTR to its line's first name; '#' comments. Repeatable.",
           .list = true,
           .set = [](Config& c, std::string_view t) { c.hosts_files.emplace_back(t); },
           .clear = [](Config& c) { c.hosts_files.clear(); },
           .show = [](const Config& c) { return strings_or_none(c.hosts_files); }},
    Option{.flag = "--check-config",
           .help = "Load and check the settings, then exit: 0 if good, 2 if not.",
           .show_unset = "off"},
    Option{.flag = "--version", .help = "Print \"dotproxy VERSION\" and exit."},
    Option{.flag = "--help", .help = "Print the options and exit."},
};

}  // namespace

std::span<const Option> options() { return kOptions; }

std::string toml_scalar_text(const toml::node& node) {
  if (const auto* s = node.as_string()) return s->get();
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  throw ValueError(node.is_array()   ? "expected a single value, not an array"
                   : node.is_table() ? "expected a single value, not a table"
                                     : "expected a string, a whole number or a boolean");
}

std::string toml_where(std::string_view file, const toml::node& node) {
  return std::string(file) + ":" + std::to_string(node.source().begin.line) + ": ";
}

}  // namespace dp::config
