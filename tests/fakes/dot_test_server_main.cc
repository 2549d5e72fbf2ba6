// dot-test-server: the test DoT server as a standalone binary, for scripts/ and manual use:
//   dot-test-server --cert F --key F [--port N] [--address 127.0.0.1] [--delay-ms N] [--tls12]
//                   [misbehaviour flags, see kUsage; they set the Behaviour knobs]
// Prints "listening ADDRESS:PORT" once ready (knobs already set) and serves until SIGTERM or
// SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/dot_test_server.h"

namespace {

constexpr const char* kUsage =
    "usage: dot-test-server --cert FILE --key FILE [--port N] [--address ADDR] [--delay-ms N] "
    "[--tls12]\n"
    "  misbehaviour (see Behaviour in dot_test_server.h):\n"
    "    --silent             read queries, never answer\n"
    "    --reverse            answer each burst of pipelined queries in reverse order\n"
    "    --close-after N      close a connection after N answers\n"
    "    --idle-close-ms N    close a connection idle for N ms\n"
    "    --keepalive-ms N     RFC 7828 edns-tcp-keepalive of N ms (and idle close after it)\n"
    "    --reset-mid-answer   send half of the first answer, then reset (once)\n"
    "    --duplicate          send every answer twice\n"
    "    --unknown-id         send an answer with ID ^ 0x5a5a before each answer\n"
    "    --wrong-question     answer with the right ID for another name\n"
    "    --garbage            a 64-byte non-DNS frame instead of each answer\n"
    "    --zero-length        a zero length prefix instead of each answer\n"
    "    --huge-prefix        the length prefix 65535, then silence\n";

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "dot-test-server: " << msg << "\n" << kUsage;
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
  using dp::testing::Behaviour;
  dp::testing::DotTestServerConfig config;
  // Applied once the server exists (Behaviour holds atomics, so it is not part of the config).
  std::vector<std::pair<std::atomic<bool> Behaviour::*, bool>> flags;
  std::vector<std::pair<std::atomic<int> Behaviour::*, int>> numbers;
  const std::pair<std::string_view, std::atomic<bool> Behaviour::*> kFlags[] = {
      {"--silent", &Behaviour::silent},
      {"--reverse", &Behaviour::reverse_batches},
      {"--reset-mid-answer", &Behaviour::reset_mid_answer},
      {"--duplicate", &Behaviour::duplicate_answers},
      {"--unknown-id", &Behaviour::unknown_id_answers},
      {"--wrong-question", &Behaviour::wrong_question},
      {"--garbage", &Behaviour::garbage},
      {"--zero-length", &Behaviour::zero_length_prefix},
      {"--huge-prefix", &Behaviour::huge_prefix_then_silence},
  };
  const std::pair<std::string_view, std::atomic<int> Behaviour::*> kNumbers[] = {
      {"--close-after", &Behaviour::close_after_queries},
      {"--idle-close-ms", &Behaviour::idle_close_ms},
      {"--keepalive-ms", &Behaviour::keepalive_timeout_ms},
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (arg == "--tls12") {
      config.tls12_only = true;
      continue;
    }
    bool is_flag = false;
    for (const auto& [name, field] : kFlags) {
      if (arg == name) {
        flags.emplace_back(field, true);
        is_flag = true;
      }
    }
    if (is_flag) continue;
    if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value (or is unknown)");
    const char* value = argv[++i];
    if (arg == "--cert") {
      config.cert_file = value;
    } else if (arg == "--key") {
      config.key_file = value;
    } else if (arg == "--address") {
      config.address = value;
    } else if (arg == "--port") {
      config.port = static_cast<std::uint16_t>(parse_number(arg, value, 65535));
    } else if (arg == "--delay-ms") {
      config.delay_ms = static_cast<int>(parse_number(arg, value, 3600000));
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
  if (config.cert_file.empty() || config.key_file.empty()) usage_error("--cert and --key needed");

  // Blocked before any thread starts, so only sigwait() below ever sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    dp::testing::DotTestServer server(config);
    for (const auto& [field, v] : flags) server.behaviour().*field = v;
    for (const auto& [field, v] : numbers) server.behaviour().*field = v;
    const bool v6 = config.address.find(':') != std::string::npos;
    std::printf("listening %s%s%s:%u\n", v6 ? "[" : "", config.address.c_str(), v6 ? "]" : "",
                static_cast<unsigned>(server.port()));
    std::fflush(stdout);
    int signo = 0;
    sigwait(&stop_signals, &signo);
    server.stop();
    std::fprintf(stderr,
                 "dot-test-server: stopped by signal %d; %llu queries on %llu connections\n", signo,
                 static_cast<unsigned long long>(server.queries_received()),
                 static_cast<unsigned long long>(server.connections_accepted()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dot-test-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
