// dot-test-server: the test DoT server as a standalone binary, for scripts/ and manual use:
//   dot-test-server --cert F --key F [--port N] [--address 127.0.0.1] [--delay-ms N] [--tls12]
// Prints "listening ADDRESS:PORT" once ready and serves until SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "fakes/dot_test_server.h"

namespace {

constexpr const char* kUsage =
    "usage: dot-test-server --cert FILE --key FILE [--port N] [--address ADDR] [--delay-ms N] "
    "[--tls12]\n";

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
  dp::testing::DotTestServerConfig config;
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
      usage_error("unknown option " + std::string(arg));
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
