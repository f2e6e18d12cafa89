// The agent-call protocol (cloud/child_calls.h): the request a child reads on
// standard input (executed with no AWS session over a FakeTransport, so a
// webhook publish really runs), the status it answers, the sink specs inside
// requests, and the watch plan `spotkeeper-watch` reads (agent/watch_plan.h).
// Invariants: never throws or crashes; statuses, sink specs and plans that
// parse survive a round trip through their JSON form unchanged.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/watch_plan.h"
#include "base/json.h"
#include "cloud/child_call_exec.h"
#include "cloud/child_calls.h"
#include "cloud/sinks.h"
#include "fuzz_check.h"
#include "net/fake_transport.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const nlohmann::json j = spk::ParseJsonOrDiscarded(text, spk::kMaxLocalDocumentBytes);
  if (j.is_discarded()) return 0;

  spk::net::FakeTransport http([](const spk::net::HttpRequest&) {
    spk::net::HttpResponse r;
    r.status = 204;
    return spk::Result<spk::net::HttpResponse>(r);
  });
  (void)spk::cloud::ExecuteChildCall(j, nullptr, http);

  const spk::Status status = spk::cloud::StatusFromJson(j);
  const spk::Status again = spk::cloud::StatusFromJson(spk::cloud::StatusToJson(status));
  FUZZ_CHECK(again.code() == status.code());
  FUZZ_CHECK(again.message() == status.message());
  FUZZ_CHECK(again.remote().has_value() == status.remote().has_value());

  if (auto sink = spk::cloud::SinkSpecFromJson(j); sink.ok()) {
    auto back = spk::cloud::SinkSpecFromJson(spk::cloud::SinkSpecToJson(*sink));
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(back->Name() == sink->Name());
    FUZZ_CHECK(back->headers == sink->headers);
  }

  if (auto plan = spk::agent::WatchPlanFromJson(j); plan.ok()) {
    const nlohmann::json once = spk::agent::WatchPlanToJson(*plan);
    auto back = spk::agent::WatchPlanFromJson(once);
    FUZZ_CHECK(back.ok());
    FUZZ_CHECK(spk::agent::WatchPlanToJson(*back) == once);
  }
  return 0;
}
