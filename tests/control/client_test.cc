#include "control/client.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "fakes/test_pki.h"

namespace dp::control {
namespace {

// Runs the client with its output in temporary files.
struct CtlResult {
  int code = -1;
  std::string out;
  std::string err;
};

std::string file_read(std::FILE* f) {
  std::rewind(f);
  std::string text;
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, f)) > 0) text.append(buffer, n);
  return text;
}

CtlResult run(const std::vector<std::string>& args, const std::string& env = "") {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  CtlResult r;
  r.code = ctl_run(args, env, out, err);
  r.out = file_read(out);
  r.err = file_read(err);
  std::fclose(out);
  std::fclose(err);
  return r;
}

TEST(ControlCtlRunTest, UsageErrorsExitTwoWithoutAServer) {
  for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                {"frobnicate"},
                                                                {"flush"},
                                                                {"flush", "a..b"},
                                                                {"flush", "a", "NOTATYPE"},
                                                                {"status", "extra"},
                                                                {"--socket"},
                                                                {"--bogus", "status"}}) {
    const CtlResult r = run(args, "/nonexistent/control.sock");
    EXPECT_EQ(r.code, 2) << (args.empty() ? "(none)" : args[0]) << ": " << r.err;
    EXPECT_NE(r.err.find("usage: dotproxy ctl"), std::string::npos) << r.err;
  }
}

TEST(ControlCtlRunTest, HelpExitsZero) {
  const CtlResult r = run({"--help"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("flush-zone NAME"), std::string::npos);
}

TEST(ControlCtlRunTest, NoServerExitsOneAndSaysWhy) {
  dp::testing::TempDir dir("ctl-client");
  const std::string path = dir.path() + "/absent.sock";
  const CtlResult r = run({"--socket", path, "status"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("cannot connect to " + path + ": No such file or directory"),
            std::string::npos)
      << r.err;
  // The environment's socket is used when --socket is not given.
  const CtlResult from_env = run({"status"}, path);
  EXPECT_EQ(from_env.code, 1);
  EXPECT_NE(from_env.err.find(path), std::string::npos) << from_env.err;
}

}  // namespace
}  // namespace dp::control
