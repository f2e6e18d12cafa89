#include "cli/watch.h"

int main(int argc, char** argv) { return spk::cli::WatchMain(argc, argv); }
