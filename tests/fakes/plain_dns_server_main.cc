// plain-dns-server: the plain DNS test server (cluster.local and its reverse zones, UDP and TCP
// on one port) as a standalone binary, for scripts/ and manual kdig runs:
//   plain-dns-server [--address 127.0.0.1] [--port N] [--zone Z]... [--record NAME ADDR]...
//                    [--ttl S] [--soa-minimum S] [misbehaviour flags, see kUsage]
// Prints "listening ADDRESS:PORT" once ready (knobs already set) and serves until SIGTERM or
// SIGINT, then prints its query counts to stderr.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/plain_dns_server.h"

namespace {

constexpr const char* kUsage =
    "usage: plain-dns-server [--address ADDR] [--port N] [--zone ZONE]... [--record NAME ADDR]...\n"
    "                        [--ttl SECONDS] [--soa-minimum SECONDS]\n"
    "  --zone ZONE           also serve ZONE (NXDOMAIN with its SOA for unknown names)\n"
    "  --record NAME ADDR    NAME A (or AAAA) ADDR, plus its PTR; NAME must be in a zone\n"
    "  misbehaviour (see PlainDnsBehaviour in plain_dns_server.h):\n"
    "    --silent             read queries, never answer\n"
    "    --delay-ms N         answer each query N ms after it arrived\n"
    "    --truncate-udp       UDP answers: header and question only, TC=1\n"
    "    --set-ad             AD=1 in every answer\n"
    "    --wrong-id-udp       UDP: the answer with ID ^ 1 instead of the answer\n"
    "    --close-tcp-after N  close a TCP connection after N answers\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "plain-dns-server: " << msg << "\n" << kUsage;
  std::exit(2);
}

long parse_number(std::string_view flag, const char* text, long max) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || v < 0 || v > max) {
    usage_error(std::string(flag) + ": bad number '" + text + "'");
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  using dp::testing::PlainDnsBehaviour;
  dp::testing::PlainDnsServerConfig config;
  // Applied once the server exists (the knobs are atomics, not part of the config).
  std::vector<std::atomic<bool> PlainDnsBehaviour::*> flags;
  std::vector<std::pair<std::atomic<int> PlainDnsBehaviour::*, int>> numbers;
  const std::pair<std::string_view, std::atomic<bool> PlainDnsBehaviour::*> kFlags[] = {
      {"--silent", &PlainDnsBehaviour::silent},
      {"--truncate-udp", &PlainDnsBehaviour::truncate_udp},
      {"--set-ad", &PlainDnsBehaviour::set_ad},
      {"--wrong-id-udp", &PlainDnsBehaviour::wrong_id_udp},
  };
  const std::pair<std::string_view, std::atomic<int> PlainDnsBehaviour::*> kNumbers[] = {
      {"--delay-ms", &PlainDnsBehaviour::delay_ms},
      {"--close-tcp-after", &PlainDnsBehaviour::close_tcp_after},
  };
  constexpr long kMaxSeconds = 2147483647;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    bool is_flag = false;
    for (const auto& [name, field] : kFlags) {
      if (arg == name) {
        flags.push_back(field);
        is_flag = true;
      }
    }
    if (is_flag) continue;
    if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value (or is unknown)");
    const char* value = argv[++i];
    if (arg == "--address") {
      config.address = value;
    } else if (arg == "--port") {
      config.port = static_cast<std::uint16_t>(parse_number(arg, value, 65535));
    } else if (arg == "--zone") {
      config.extra_zones.emplace_back(value);
    } else if (arg == "--record") {
      if (i + 1 >= argc) usage_error("--record needs NAME and ADDR");
      config.extra_addresses[value] = argv[++i];
    } else if (arg == "--ttl") {
      config.ttl = static_cast<std::uint32_t>(parse_number(arg, value, kMaxSeconds));
    } else if (arg == "--soa-minimum") {
      config.soa_minimum = static_cast<std::uint32_t>(parse_number(arg, value, kMaxSeconds));
    } else {
      bool known = false;
      for (const auto& [name, field] : kNumbers) {
        if (arg == name) {
          numbers.emplace_back(field, static_cast<int>(parse_number(arg, value, 3600000)));
          known = true;
        }
      }
      if (!known) usage_error("unknown option " + std::string(arg));
    }
  }

  // Blocked before any thread starts, so only sigwait() below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    dp::testing::PlainDnsServer server(config);
    for (const auto field : flags) server.behaviour().*field = true;
    for (const auto& [field, v] : numbers) server.behaviour().*field = v;
    const bool v6 = config.address.find(':') != std::string::npos;
    std::printf("listening %s%s%s:%u\n", v6 ? "[" : "", config.address.c_str(), v6 ? "]" : "",
                static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    int signo = 0;
    sigwait(&stop_signals, &signo);
    server.stop();
    std::fprintf(stderr,
                 "plain-dns-server: stopped by signal %d; %llu queries (%llu UDP, %llu TCP) on "
                 "%llu TCP connections\n",
                 signo, static_cast<unsigned long long>(server.queries_received()),
                 static_cast<unsigned long long>(server.udp_queries()),
                 static_cast<unsigned long long>(server.tcp_queries()),
                 static_cast<unsigned long long>(server.connections_accepted()));
  } catch (const std::invalid_argument& e) {  // a bad --address, --zone or --record
    std::fprintf(stderr, "plain-dns-server: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plain-dns-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
