// The blocklist check every client query passes before it may go upstream, against a list of a
// million names: a blocked name, an unblocked one, and many unblocked names (cache misses as
// real traffic has them); and the load of a million-name file.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "policy/blocklist.h"
#include "tests/policy/blocklist_names.h"

namespace dp::policy {
namespace {

using testing::generated_names;
using testing::wire;

constexpr std::size_t kNames = 1'000'000;

// The million-name file, written once per run.
const std::string& million_file() {
  static const std::string path = [] {
    char name[] = "/tmp/dotproxy-blocklist-bench-XXXXXX";
    const int fd = mkstemp(name);
    if (fd < 0) std::abort();
    ::close(fd);
    std::ofstream out(name);
    for (const auto& n : generated_names(kNames)) out << n << '\n';
    std::atexit([] { std::remove(million_file().c_str()); });
    return std::string(name);
  }();
  return path;
}

const Blocklist& million_list() {
  static const Blocklist list = [] {
    const std::vector<std::string> paths = {million_file()};
    auto loaded = Blocklist::load(paths);
    if (!loaded.has_value() || loaded->size() != kNames) std::abort();
    return std::move(loaded).value();
  }();
  return list;
}

// A subdomain of a listed name: found at the second probe from the right.
void BM_BlocklistLookupBlocked(benchmark::State& state) {
  const Blocklist& list = million_list();
  const std::string name = wire("www." + generated_names(500'001).back());
  for (auto _ : state) benchmark::DoNotOptimize(list.blocked(name));
  state.counters["memory_MiB"] = static_cast<double>(list.memory_bytes()) / (1024.0 * 1024.0);
}
BENCHMARK(BM_BlocklistLookupBlocked);

// Three labels, none listed: three probes, the common case of real traffic.
void BM_BlocklistLookupUnblocked(benchmark::State& state) {
  const Blocklist& list = million_list();
  const std::string name = wire("www.unlisted-example.com");
  for (auto _ : state) benchmark::DoNotOptimize(list.blocked(name));
}
BENCHMARK(BM_BlocklistLookupUnblocked);

// 65536 different unblocked names in turn, so that most probes miss the CPU caches.
void BM_BlocklistLookupUnblockedMany(benchmark::State& state) {
  const Blocklist& list = million_list();
  std::vector<std::string> names;
  for (const auto& n : generated_names(65536)) names.push_back(wire("cdn.x" + n));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(list.blocked(names[i]));
    i = (i + 1) & 65535;
  }
}
BENCHMARK(BM_BlocklistLookupUnblockedMany);

void BM_BlocklistLoadMillion(benchmark::State& state) {
  const std::vector<std::string> paths = {million_file()};
  for (auto _ : state) {
    auto loaded = Blocklist::load(paths);
    benchmark::DoNotOptimize(loaded.has_value());
  }
}
BENCHMARK(BM_BlocklistLoadMillion)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace dp::policy
