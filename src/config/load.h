// Builds the Config from defaults < config file < environment < command line, every option
// defined once in the table of options.h. Errors are one line naming the option and its source.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>

#include "config/config.h"

namespace dp::config {

// A bad setting: what() is one line such as "--listen: '1.2.3.4' is not ADDR:PORT ..." or
// "/etc/dotproxy.toml:7: upstream_timeout: 'abc' is not a duration (e.g. 500ms, 3s)".
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Looks up an environment variable; injected so that tests need not touch the process's.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup env_from_process();  // getenv(3)

struct Invocation {
  enum class Action {
    kRun,          // serve with `config`
    kCheckConfig,  // --check-config: `config` loaded and validated; exit 0
    kExit,         // --help or --version: print `output` to stdout, exit with `exit_code`
  };
  Action action = Action::kRun;
  int exit_code = 0;
  std::string output;
  Config config;
  std::string config_path;  // "" when neither --config nor DOTPROXY_CONFIG was given
};

// Parses argv (argv[0] is the program name), the environment and the file they name, then runs
// config_validate(). Throws ConfigError on any bad flag, value, key or file.
Invocation config_load(int argc, const char* const* argv, const EnvLookup& env);

// Checks across fields: a listen address and an upstream at least, no listen address twice,
// a readable ca_file. Throws ConfigError naming the option.
void config_validate(const Config& config);

// "| Flag | Environment | TOML key | Default | Meaning |" with one row per option, for the README.
std::string options_markdown_table();

}  // namespace dp::config
