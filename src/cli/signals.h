// SIGTERM/SIGINT handling shared by the long-running commands.
#pragma once

#include <atomic>

namespace spk::cli {

// Installs SIGTERM and SIGINT handlers that set the returned flag.
const std::atomic<bool>& InstallStopSignalHandlers();

}  // namespace spk::cli
