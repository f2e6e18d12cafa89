// The executing side of the agent's calls: what `spotkeeper agent-call` (and
// an agent watching from its own process) runs. Kept apart from
// cloud/child_calls.h and cloud/sinks.h because this pulls in the AWS clients,
// which spotkeeper-watch must not link.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "aws/client.h"
#include "base/status.h"
#include "cloud/notifier.h"
#include "cloud/sinks.h"
#include "net/http.h"

namespace spk::cloud {

// The Notifier that delivers to `spec` from this process. `aws` may be null for
// a webhook only (kFailedPrecondition otherwise); both must outlive the result.
Result<std::unique_ptr<Notifier>> MakeNotifier(const SinkSpec& spec, aws::AwsClient* aws,
                                               net::HttpTransport& http);

// The child's side: does `request` from this process. `aws` may be null when
// there is no AWS session (then only webhook publishes can succeed).
Status ExecuteChildCall(const nlohmann::json& request, aws::AwsClient* aws,
                        net::HttpTransport& http);

}  // namespace spk::cloud
