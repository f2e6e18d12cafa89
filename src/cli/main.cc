#include "cli/app.h"

int main(int argc, char** argv) { return spk::cli::Main(argc, argv); }
