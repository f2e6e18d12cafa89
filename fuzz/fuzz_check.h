// FUZZ_CHECK: an invariant a harness asserts. A violation prints the condition
// and aborts, which libFuzzer reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

#include "base/log.h"

// Every harness: the code under test logs nothing (a log line per input would
// be most of the time spent).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spk::log::Configure(spk::log::Format::kText, spk::log::Level::kOff);
  return 0;
}
