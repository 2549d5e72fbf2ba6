// Prints the README's option table from the code's one option table; scripts/readme-options
// puts it into README.md (ConfigLoadTest.ReadmeOptionTableMatchesTheCode checks it is there).
#include <cstdio>

#include "config/load.h"

int main() {
  std::fputs(dp::config::options_markdown_table().c_str(), stdout);
  return 0;
}
