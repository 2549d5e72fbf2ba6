// The one table of dotproxy's options: flag, environment variable, TOML key, help and parser.
// config_load() drives the command line, the environment and the file from it, and the README's
// option table is rendered from it, so the three spellings and the docs cannot drift apart.
#pragma once

#include <toml++/toml.h>

#include <span>
#include <string>
#include <string_view>

#include "config/config.h"

namespace dp::config {

struct Option {
  std::string_view flag = {};        // "--listen"
  std::string_view env = {};         // "DOTPROXY_LISTEN"; empty: none
  std::string_view toml_key = {};    // "listen"; empty: not settable from the file
  std::string_view value_name = {};  // "ADDR:PORT"; empty: a flag that takes no value
  std::string_view help = {};        // one sentence, with the accepted range
  // A list takes many values; the highest level (file, env, command line) that gives any
  // replaces the whole list of the levels below it.
  bool list = false;
  // Lists: the command line also takes "a,b" as two items. Off where a value may hold a comma
  // (a TXT record's text); the environment's lists are comma-separated all the same.
  bool cli_commas = true;
  // Parses one value (one item of a list) into the config; throws ValueError. Null for the
  // options config_load() acts on itself (--config, --check-config, --version, --help).
  void (*set)(Config& config, std::string_view text) = nullptr;
  void (*clear)(Config& config) = nullptr;              // lists: drop the lower level's items
  std::string (*show)(const Config& config) = nullptr;  // the value as text (default column)
  std::string_view show_unset = {};                     // default column when show is null
  // Turns one TOML value (one array item for a list) into set()'s text. Null: a string or an
  // integer is taken as is. Throws ValueError, or ConfigError with its own file:line.
  std::string (*toml_text)(const toml::node& node, std::string_view file) = nullptr;
  // For values the text form cannot carry (an [[upstream]] table with pins): sets one TOML
  // item directly, instead of set(toml_text(item)). Throws ConfigError with its file:line.
  void (*toml_set)(Config& config, const toml::node& node, std::string_view file) = nullptr;
};

// Every option, in the order of --help and the README.
std::span<const Option> options();

// A TOML string as is, an integer in decimal; throws ValueError for any other type.
std::string toml_scalar_text(const toml::node& node);

// "file:line: " for a TOML node, the prefix of every error about the file.
std::string toml_where(std::string_view file, const toml::node& node);

}  // namespace dp::config
