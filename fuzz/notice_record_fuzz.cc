// The notice record a decider reads back from a container instance's ECS
// attribute `spotkeeper.notice` (controller/handler.h ParseNoticeRecord):
// anyone who may put attributes on the cluster can write it.
// Invariants: never throws or crashes; an error is kInvalidArgument with a
// message of bounded size; a parsed record prints (NoticeRecord) as a record
// that parses again to the same kind and the same second.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/handler.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = spk::controller::ParseNoticeRecord(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == spk::StatusCode::kInvalidArgument);
    FUZZ_CHECK(parsed.status().message().size() < 256);
    return 0;
  }
  const std::string again = spk::controller::NoticeRecord(parsed->first, parsed->second);
  auto reparsed = spk::controller::ParseNoticeRecord(again);
  FUZZ_CHECK(reparsed.ok());
  FUZZ_CHECK(reparsed->first == parsed->first);
  const auto drift = parsed->second - reparsed->second;
  FUZZ_CHECK(drift >= spk::Duration::zero() && drift < std::chrono::seconds(1));
  return 0;
}
