// The spotkeeper command line: parses arguments and dispatches to a subcommand.
#pragma once

namespace spk::cli {

// Runs the program; returns the process exit code
// (0 success, 1 the command failed, 2 wrong usage or configuration).
int Main(int argc, char** argv);

}  // namespace spk::cli
