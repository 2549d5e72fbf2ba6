#include "config/load.h"

#include <toml++/toml.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "config/forward_zone.h"
#include "config/options.h"
#include "config/value_error.h"
#include "dotproxy_version.h"
#include "zones/local_data.h"

namespace dp::config {
namespace {

constexpr std::string_view kConfigFlag = "--config";
constexpr std::string_view kConfigEnv = "DOTPROXY_CONFIG";

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// Runs set() on each value of one level, with `where` ("--workers", "DOTPROXY_WORKERS") as the
// prefix of any error. A list given at this level replaces the lower level's list.
void apply(Config& config, const Option& option, const std::vector<std::string>& values,
           std::string_view where) {
  if (option.list) option.clear(config);
  for (const std::string& value : values) {
    try {
      option.set(config, value);
    } catch (const ValueError& e) {
      throw ConfigError(std::string(where) + ": " + e.what());
    }
  }
}

// The command line as given, before any of it is applied.
struct CommandLine {
  std::vector<std::vector<std::string>> values;  // per option, in options() order; empty: absent
  std::optional<std::string> config_path;
  bool check_config = false;
  bool version = false;
  std::optional<std::string> help;  // --help text
};

std::string cli_description(const Option& option) {
  std::string text(option.help);
  const Config defaults;
  std::string notes;
  if (option.show != nullptr) notes = "default " + option.show(defaults);
  if (!option.env.empty()) notes += (notes.empty() ? "env " : "; env ") + std::string(option.env);
  return notes.empty() ? text : text + "\n[" + notes + "]";
}

CommandLine command_line_parse(int argc, const char* const* argv) {
  CLI::App app{"dotproxy " DOTPROXY_VERSION ": caching DNS-over-TLS stub resolver", "dotproxy"};
  const auto all = options();
  CommandLine out;
  out.values.resize(all.size());
  std::vector<std::string> scalars(all.size());
  std::vector<CLI::Option*> flags(all.size(), nullptr);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Option& o = all[i];
    const std::string flag(o.flag);
    if (flag == "--help") {
      app.set_help_flag("-h,--help", std::string(o.help));
    } else if (o.value_name.empty()) {
      const std::string help(o.help);  // CLI11 2.1 takes a const lvalue here, not a temporary
      flags[i] = app.add_flag(flag, help);
    } else if (o.list) {
      // Commas as in the environment: --listen 127.0.0.1:53,[::1]:53.
      CLI::Option* option = app.add_option(flag, out.values[i], cli_description(o))
                                ->type_name(std::string(o.value_name));
      if (o.cli_commas) option->delimiter(',');
    } else {
      flags[i] = app.add_option(flag, scalars[i], cli_description(o))
                     ->type_name(std::string(o.value_name))
                     ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.help = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    throw ConfigError(one_line(e.what()) + " (see --help)");
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (flags[i] == nullptr || flags[i]->count() == 0) continue;
    const std::string_view flag = all[i].flag;
    if (flag == kConfigFlag) {
      out.config_path = scalars[i];
    } else if (flag == "--check-config") {
      out.check_config = true;
    } else if (flag == "--version") {
      out.version = true;
    } else {
      out.values[i] = {scalars[i]};
    }
  }
  return out;
}

// "a, b" -> {"a", "b"}: the environment's form of a list.
std::vector<std::string> env_list_split(std::string_view name, std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.empty())
      throw ConfigError(std::string(name) + ": empty item in '" + std::string(text) + "'");
    items.emplace_back(item);
    if (comma == text.size()) return items;
    start = comma + 1;
  }
}

// An empty variable counts as unset: shells and compose files often export NAME= to mean "none".
std::optional<std::string> env_get(const EnvLookup& env, std::string_view name) {
  auto value = env(std::string(name));
  if (value && value->empty()) return std::nullopt;
  return value;
}

void env_apply(Config& config, const EnvLookup& env) {
  for (const Option& o : options()) {
    if (o.set == nullptr || o.env.empty()) continue;
    const auto value = env_get(env, o.env);
    if (!value) continue;
    apply(config, o, o.list ? env_list_split(o.env, *value) : std::vector{*value}, o.env);
  }
}

toml::table toml_read(const std::string& path, std::string_view named_by) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(std::string(named_by) + ": cannot read '" + path + "': is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(std::string(named_by) + ": cannot read '" + path +
                      "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return toml::parse(text.str(), path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(path + ":" + std::to_string(e.source().begin.line) + ": " +
                      one_line(std::string(e.description())));
  }
}

// One option's value in the file: set()'s text for each item, errors at the item's own line.
void toml_apply_option(Config& config, const Option& o, const toml::node& node,
                       const std::string& path) {
  const std::string key(o.toml_key);
  const auto fail = [&](const toml::node& at, const std::string& problem) {
    throw ConfigError(toml_where(path, at) + key + ": " + problem);
  };
  const auto apply_item = [&](const toml::node& item) {
    try {
      if (o.toml_set != nullptr) {
        o.toml_set(config, item, path);
      } else {
        o.set(config, o.toml_text != nullptr ? o.toml_text(item, path) : toml_scalar_text(item));
      }
    } catch (const ValueError& e) {
      fail(item, e.what());
    }
  };
  if (!o.list) return apply_item(node);
  const toml::array* items = node.as_array();
  if (items == nullptr) fail(node, "expected an array");
  o.clear(config);
  for (const toml::node& item : *items) apply_item(item);
}

void file_apply(Config& config, const std::string& path, std::string_view named_by) {
  const toml::table root = toml_read(path, named_by);
  // toml::table iterates by key; report the first problem in file order instead.
  std::vector<std::pair<const toml::key*, const toml::node*>> entries;
  for (const auto& [key, node] : root) entries.emplace_back(&key, &node);
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.first->source().begin < b.first->source().begin;
  });
  const auto all = options();
  for (const auto& [key_ptr, node_ptr] : entries) {
    const toml::key& key = *key_ptr;
    const toml::node& node = *node_ptr;
    const auto option = std::find_if(all.begin(), all.end(), [&](const Option& o) {
      return o.set != nullptr && !o.toml_key.empty() && o.toml_key == key.str();
    });
    if (option == all.end()) {
      throw ConfigError(path + ":" + std::to_string(key.source().begin.line) + ": unknown key '" +
                        std::string(key.str()) + "'");
    }
    toml_apply_option(config, *option, node, path);
  }
}

std::string markdown_cell(std::string_view text, bool code) {
  if (text.empty()) return "—";
  std::string out;
  for (const char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return code ? "`" + out + "`" : out;
}

}  // namespace

EnvLookup env_from_process() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Invocation config_load(int argc, const char* const* argv, const EnvLookup& env) {
  Invocation out;
  const CommandLine cli = command_line_parse(argc, argv);
  if (cli.help || cli.version) {
    out.action = Invocation::Action::kExit;
    out.output = cli.help ? *cli.help : "dotproxy " DOTPROXY_VERSION "\n";
    return out;
  }
  if (cli.check_config) out.action = Invocation::Action::kCheckConfig;

  std::string_view named_by = kConfigFlag;
  if (cli.config_path) {
    out.config_path = *cli.config_path;
  } else if (auto path = env_get(env, kConfigEnv)) {
    out.config_path = *path;
    named_by = kConfigEnv;
  }
  if (!out.config_path.empty()) file_apply(out.config, out.config_path, named_by);
  env_apply(out.config, env);
  const auto all = options();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].set != nullptr && !cli.values[i].empty())
      apply(out.config, all[i], cli.values[i], all[i].flag);
  }
  config_validate(out.config);
  return out;
}

void config_validate(const Config& config) {
  if (config.listen.empty())
    throw ConfigError("listen: no address to listen on (give --listen ADDR:PORT)");
  for (auto it = config.listen.begin(); it != config.listen.end(); ++it) {
    if (std::find(config.listen.begin(), it, *it) != it)
      throw ConfigError("listen: " + it->to_string() + " is given twice");
  }
  if (!config.listen_tls.empty() && (config.tls_cert_file.empty() || config.tls_key_file.empty()))
    throw ConfigError(
        "listen_tls: needs a certificate and key (give --tls-cert FILE --tls-key FILE)");
  for (auto it = config.listen_tls.begin(); it != config.listen_tls.end(); ++it) {
    // SO_REUSEPORT would let both bind and share one port's clients between TLS and plain.
    const bool plain = it->port() != 0 && std::find(config.listen.begin(), config.listen.end(),
                                                    *it) != config.listen.end();
    if (plain || std::find(config.listen_tls.begin(), it, *it) != it)
      throw ConfigError("listen_tls: " + it->to_string() + " is given twice");
  }
  if (config.min_ttl > config.max_ttl)
    throw ConfigError("min_ttl: " + std::to_string(config.min_ttl.count()) +
                      "s is above max_ttl (" + std::to_string(config.max_ttl.count()) + "s)");
  if (config.upstreams.empty())
    throw ConfigError("upstream: no upstream (give --upstream ADDR[@PORT][#AUTH_NAME])");
  if (!config.ca_file.empty()) {
    const std::string where = "ca_file: cannot read '" + config.ca_file + "': ";
    std::error_code ec;
    if (std::filesystem::is_directory(config.ca_file, ec))
      throw ConfigError(where + "is a directory");
    if (::access(config.ca_file.c_str(), R_OK) != 0)
      throw ConfigError(where + std::strerror(errno));
  }
  if (auto conflict = forward_zone_listen_conflict(config)) throw ConfigError(*conflict);
  // The hosts files are read here, as at every reload, so a bad line stops the start.
  // Errors are "hosts: cannot read 'FILE': ..." or "FILE:LINE: ...".
  const auto local_data = zones::local_data_build(config.local_data, config.hosts_files);
  if (!local_data) throw ConfigError(local_data.error());
}

std::string options_markdown_table() {
  const Config defaults;
  std::string out =
      "| Flag | Environment | TOML key | Default | Meaning |\n"
      "|------|-------------|----------|---------|---------|\n";
  for (const Option& o : options()) {
    std::string flag(o.flag);
    if (flag == "--help") flag = "-h, --help";
    if (!o.value_name.empty()) flag += " " + std::string(o.value_name);
    const std::string shown = o.show != nullptr ? o.show(defaults) : std::string(o.show_unset);
    out += "| " + markdown_cell(flag, true) + " | " + markdown_cell(o.env, true) + " | " +
           markdown_cell(o.toml_key, true) + " | " + markdown_cell(shown, false) + " | " +
           markdown_cell(o.help, false) + " |\n";
  }
  return out;
}

}  // namespace dp::config
