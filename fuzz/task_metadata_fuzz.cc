// The ECS task metadata endpoint's /task reply the controller reads to find its
// own host (controller/self_instance.h ParseTaskMetadata).
// Invariants: never throws or crashes; an error is kInvalidArgument; a parsed
// identity has a non-empty cluster and task ARN.
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/self_instance.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto task = spk::controller::ParseTaskMetadata(text);
  if (!task.ok()) {
    FUZZ_CHECK(task.status().code() == spk::StatusCode::kInvalidArgument);
    return 0;
  }
  FUZZ_CHECK(!task->cluster.empty() && !task->task_arn.empty());
  return 0;
}
