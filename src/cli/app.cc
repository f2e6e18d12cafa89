#include "cli/app.h"

#include <CLI/CLI.hpp>

namespace spk::cli {

int Main(int argc, char** argv) {
  CLI::App app{"spotkeeper: keeps ECS services on EC2 Spot available and cheap", "spotkeeper"};
  CLI11_PARSE(app, argc, argv);
  return 0;
}

}  // namespace spk::cli
