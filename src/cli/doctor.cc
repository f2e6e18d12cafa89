#include "cli/doctor.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "aws/session.h"
#include "aws/sts.h"
#include "controller/aws_cloud_view.h"
#include "policy/on_demand_planner.h"

namespace spk::cli {
namespace {

using nlohmann::ordered_json;

const char* ImdsModeName(aws::ImdsClient::Mode m) {
  switch (m) {
    case aws::ImdsClient::Mode::kV2:
      return "IMDSv2";
    case aws::ImdsClient::Mode::kV1:
      return "IMDSv1";
    case aws::ImdsClient::Mode::kUnknown:
      break;
  }
  return "unknown";
}

// Probes IMDS with a cheap read; fills report["imds"].
void CheckImds(aws::ImdsClient& imds, ordered_json& report) {
  ordered_json j;
  j["endpoint"] = imds.options().endpoint;
  if (imds.options().disabled) {
    j["status"] = "disabled (AWS_EC2_METADATA_DISABLED)";
  } else {
    auto id = imds.Get("/latest/meta-data/instance-id");
    if (id.ok()) {
      j["status"] = fmt::format("answers ({})", ImdsModeName(imds.mode()));
      j["instance_id"] = *id;
    } else {
      j["status"] = "not reachable: " + id.status().message();
    }
  }
  report["imds"] = j;
}

// Reads the on-demand group as the controller does and says how its units
// per instance are found; fills report["on_demand_units"], adds a problem
// when the group cannot be read or its units are unknown.
void CheckOnDemandUnits(const DoctorOptions& options, aws::AwsClient& client, ordered_json& report,
                        std::vector<std::string>& problems) {
  controller::AwsCloudView cloud(client);
  controller::OnDemandGroupRead read = cloud.ReadOnDemandGroup(options.on_demand_asg);
  policy::PolicyConfig config;
  if (options.on_demand_units != 0) config.on_demand_units = options.on_demand_units;
  controller::FindCapacityProviderOwner(cloud, options.clusters, &read);
  controller::ResolveOnDemandUnits(cloud, config.on_demand_units, &read);
  if (!read.group.read_status.ok()) {
    report["on_demand_units"] =
        options.on_demand_asg + ": not readable: " + read.group.read_status.ToString();
    problems.push_back("on-demand group " + options.on_demand_asg + " not readable");
    return;
  }
  if (!read.group.managed_by_capacity_provider.empty()) {
    report["on_demand_units"] = options.on_demand_asg + ": sized by ECS (capacity provider " +
                                read.group.managed_by_capacity_provider +
                                " with managed scaling): spotkeeper never resizes it";
    return;
  }
  report["on_demand_units"] = policy::DescribeUnitsPerInstance(read.group, config);
  if (!policy::OnDemandUnitsPerInstance(read.group, config).ok()) {
    problems.push_back("units per on-demand instance of " + options.on_demand_asg + " unknown");
  }
}

void PrintText(const ordered_json& r, std::ostream& out) {
  auto str = [](const ordered_json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
  out << "region:      " << str(r["region"]) << "\n";
  if (r.contains("credentials")) {
    const auto& c = r["credentials"];
    out << "credentials: " << str(c["status"]) << "\n";
    if (c.contains("tried")) {
      for (const auto& t : c["tried"]) out << "  tried " << str(t) << "\n";
    }
  }
  if (r.contains("identity")) out << "identity:    " << str(r["identity"]) << "\n";
  out << "endpoints:\n";
  for (const auto& [name, e] : r["endpoints"].items()) {
    out << fmt::format("  {:<13}{}\n", name, str(e));
  }
  if (r.contains("on_demand_units")) out << "on-demand:   " << str(r["on_demand_units"]) << "\n";
  out << "imds:        " << str(r["imds"]["status"]) << " at " << str(r["imds"]["endpoint"])
      << "\n";
  out << "result:      " << str(r["result"]) << "\n";
}

}  // namespace

std::string MaskKeyId(const std::string& key_id) {
  if (key_id.size() <= 8) return std::string(key_id.size(), '*');
  return key_id.substr(0, 4) + std::string(key_id.size() - 8, '*') +
         key_id.substr(key_id.size() - 4);
}

int RunDoctor(const DoctorOptions& options, const Env& env, net::HttpTransport& http, Clock& clock,
              Random& random, std::ostream& out) {
  ordered_json report;
  std::vector<std::string> problems;  // what makes the exit code 1, in report order
  aws::SessionOptions session_options;
  session_options.region = options.region;
  session_options.client.retry.max_attempts = 1;  // report what happens, do not wait it out
  auto session = aws::AwsSession::Create(env, http, clock, random, session_options);
  if (!session.ok()) {
    // No region: still report what we can about credentials and IMDS.
    report["region"] = "none: " + session.status().message();
    session_options.region = "us-east-1";
    session = aws::AwsSession::Create(env, http, clock, random, session_options);
    problems.push_back("no region");
    if (!session.ok()) {
      out << session.status().ToString() << "\n";
      return 1;
    }
  } else {
    report["region"] =
        fmt::format("{} (from {})", (*session)->region().region, (*session)->region().source);
  }
  aws::AwsSession& s = **session;

  ordered_json creds;
  auto c = s.credentials().Resolve();
  if (c.ok()) {
    creds["status"] = fmt::format("{} (access key {}{})", c->source, MaskKeyId(c->access_key_id),
                                  c->session_token.empty() ? "" : ", with session token");
    if (c->expiration) creds["expires"] = FormatIso8601(*c->expiration);
  } else {
    problems.push_back("no credentials");
    creds["status"] = "none found";
    ordered_json tried = ordered_json::array();
    for (const auto& a : s.credentials().attempts()) {
      tried.push_back(fmt::format("{}: {}", a.provider, a.status.message()));
    }
    creds["tried"] = tried;
  }
  report["credentials"] = creds;

  if (c.ok()) {
    auto id = aws::StsClient(s.client()).GetCallerIdentity();
    if (id.ok()) {
      report["identity"] = fmt::format("{} (account {})", id->arn, id->account);
    } else {
      problems.push_back("STS refused the credentials or did not answer");
      report["identity"] = "STS GetCallerIdentity failed: " + id.status().ToString();
    }
  }

  ordered_json endpoints;
  for (const aws::ServiceInfo* svc : aws::services::All()) {
    auto e = s.endpoints().Resolve(*svc);
    endpoints[svc->id] =
        e.ok() ? fmt::format("{} ({})", e->url, e->source) : "invalid: " + e.status().message();
    if (!e.ok()) problems.push_back("invalid " + svc->id + " endpoint");
  }
  report["endpoints"] = endpoints;
  if (!options.on_demand_asg.empty() && c.ok()) {
    CheckOnDemandUnits(options, s.client(), report, problems);
  }
  CheckImds(s.imds(), report);
  std::string result = problems.empty() ? "ok" : "problems found: ";
  for (size_t i = 0; i < problems.size(); ++i) result += (i ? ", " : "") + problems[i];
  report["result"] = result;

  if (options.json) {
    out << report.dump(2) << "\n";
  } else {
    PrintText(report, out);
  }
  return problems.empty() ? 0 : 1;
}

}  // namespace spk::cli
