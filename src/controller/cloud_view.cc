#include "controller/cloud_view.h"

namespace spk::controller {

const char* PendingSourceName(PendingSource source) {
  return source == PendingSource::kApi ? "api" : "cloudwatch";
}

Result<PendingSource> ParsePendingSource(const std::string& text) {
  if (text == "api") return PendingSource::kApi;
  if (text == "cloudwatch") return PendingSource::kCloudWatch;
  return InvalidArgumentError("pending source must be api or cloudwatch, not \"" + text + "\"");
}

}  // namespace spk::controller
