// SIGTERM/SIGINT handling shared by the long-running commands.
#pragma once

#include <signal.h>

#include <atomic>

namespace spk::cli {

// Installs SIGTERM and SIGINT handlers that set the returned flag.
const std::atomic<bool>& InstallStopSignalHandlers();

// Blocks SIGTERM and SIGINT in the calling thread (a stop request then stays
// pending, across an exec too) and returns the mask from before.
sigset_t BlockStopSignals();
// Unblocks them: a pending stop request is delivered now.
void UnblockStopSignals();

}  // namespace spk::cli
