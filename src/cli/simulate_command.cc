#include "cli/simulate_command.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "report/report.h"
#include "sim/output.h"
#include "sim/scenario.h"
#include "sim/simulation.h"

namespace spk::cli {
namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// A progress bar on stderr, shown only once a run has taken more than a
// second of wall time, redrawn at most every 1/10 s.
class ProgressBar {
 public:
  ProgressBar(std::ostream& err, bool enabled, const Clock& clock)
      : err_(err), enabled_(enabled), clock_(clock), start_(clock.MonotonicNow()) {}
  ~ProgressBar() { Clear(); }

  void Update(const std::string& label, double fraction) {
    if (!enabled_) return;
    MonoTime now = clock_.MonotonicNow();
    if (now - start_ < std::chrono::seconds(1)) return;
    if (drawn_ && now - last_ < std::chrono::milliseconds(100) && fraction < 1) return;
    last_ = now;
    int filled = static_cast<int>(fraction * 30);
    err_ << "\r" << label << " [" << std::string(filled, '#') << std::string(30 - filled, ' ')
         << "] " << static_cast<int>(fraction * 100) << "%   " << std::flush;
    drawn_ = true;
  }
  void Clear() {
    if (drawn_) err_ << "\r" << std::string(60, ' ') << "\r" << std::flush;
    drawn_ = false;
  }

 private:
  std::ostream& err_;
  bool enabled_;
  const Clock& clock_;
  MonoTime start_;
  MonoTime last_{};
  bool drawn_ = false;
};

}  // namespace

CLI::App* AddSimulateCommand(CLI::App& app, SimulateOptions& o) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "What-if simulation: runs a scenario (YAML; default: the built-in realistic day) under\n"
      "the policies none, ecs-agent, reference and spotkeeper, and prints one row per policy:\n"
      "availability, tasks lost, minutes below target, instance-hours, cost and savings,\n"
      "and the requests failed behind the services' load balancers.");
  cmd->add_option("scenario", o.scenario_path, "Scenario YAML file (docs/simulator.md)");
  cmd->add_option("--policy", o.policies,
                  "Policy to run (repeatable): none, ecs-agent, reference, spotkeeper; default all")
      ->allow_extra_args(false);  // one value per occurrence: the scenario is not a policy
  cmd->add_option("--seed", o.seed, "Random seed (overrides the scenario's)");
  cmd->add_option("--seeds", o.seeds,
                  "Run under N seeds (the seed, seed+1, ...) in parallel and report each\n"
                  "policy's 5th, 50th and 95th percentiles")
      ->check(CLI::Range(1, 100000));
  cmd->add_flag("--json", o.json, "Print the result as JSON (docs/simulator.md)");
  cmd->add_flag("--csv", o.csv, "Print one CSV row per policy");
  cmd->add_option("--report", o.report_path, "Write the HTML report to this file");
  cmd->add_flag("--print-default-scenario", o.print_default,
                "Print the built-in default scenario's YAML and exit");
  return cmd;
}

int RunSimulate(const SimulateOptions& o, std::ostream& out, std::ostream& err,
                bool err_is_terminal, const Clock& clock) {
  if (o.print_default) {
    out << sim::DefaultScenarioYaml();
    return 0;
  }
  if (o.json && o.csv) {
    err << "spotkeeper simulate: --json and --csv exclude each other\n";
    return kExitUsage;
  }
  std::string text = sim::DefaultScenarioYaml();
  if (!o.scenario_path.empty()) {
    std::ifstream in(o.scenario_path, std::ios::binary);
    if (!in) {
      err << "spotkeeper simulate: cannot read scenario " << o.scenario_path << "\n";
      return kExitUsage;
    }
    std::ostringstream buf;
    buf << in.rdbuf();
    text = buf.str();
  }
  // Files the scenario refers to (real price and advisor data) are relative to it.
  std::filesystem::path base = o.scenario_path.empty()
                                   ? std::filesystem::path(".")
                                   : std::filesystem::path(o.scenario_path).parent_path();
  auto read_file = [base](const std::string& path) -> Result<std::string> {
    std::filesystem::path p(path);
    if (p.is_relative()) p = base / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) return NotFoundError("no such readable file " + p.string());
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
  };
  auto scenario = sim::ParseScenario(text, read_file);
  if (!scenario.ok()) {
    err << "spotkeeper simulate: "
        << (o.scenario_path.empty() ? std::string("default scenario") : o.scenario_path) << ": "
        << scenario.status().message() << "\n";
    return kExitUsage;
  }
  if (o.seed) scenario->seed = *o.seed;
  std::vector<sim::PolicyKind> policies;
  for (const std::string& name : o.policies) {
    auto p = sim::ParsePolicy(name);
    if (!p.ok()) {
      err << "spotkeeper simulate: --policy: " << p.status().message() << "\n";
      return kExitUsage;
    }
    policies.push_back(*p);
  }
  if (policies.empty()) policies = sim::AllPolicies();

  std::vector<sim::RunResult> runs;
  std::vector<report::Distribution> spreads;
  {
    ProgressBar bar(err, err_is_terminal, clock);
    for (sim::PolicyKind p : policies) {
      std::string label = std::string("simulating ") + sim::PolicyName(p);
      runs.push_back(sim::RunSimulation(*scenario, p, [&](double f) { bar.Update(label, f); }));
    }
    if (o.seeds > 0) {
      const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      spreads =
          sim::SummarizeSeeds(sim::RunSeeds(*scenario, policies, o.seeds, cores, [&](double f) {
            bar.Update("simulating " + std::to_string(o.seeds) + " seeds", f);
          }));
    }
  }
  nlohmann::json result = sim::ResultToJson(*scenario, runs);
  if (o.seeds > 0) result["distribution"] = sim::SpreadJson(spreads);
  if (!o.report_path.empty()) {
    auto html = report::RenderHtmlReport(result);
    if (!html.ok()) {
      err << "spotkeeper simulate: report: " << html.status().ToString() << "\n";
      return kExitFailed;
    }
    std::ofstream file(o.report_path, std::ios::binary | std::ios::trunc);
    file << *html;
    file.close();
    if (!file) {
      err << "spotkeeper simulate: cannot write report " << o.report_path << "\n";
      return kExitFailed;
    }
  }
  if (o.json) {
    out << result.dump(2) << "\n";
  } else if (o.csv) {
    out << (o.seeds > 0 ? sim::FormatSpreadCsv(spreads) : sim::FormatCsv(runs));
  } else if (o.seeds > 0) {
    out << "scenario " << scenario->name << " (seeds " << scenario->seed << ".."
        << scenario->seed + static_cast<uint64_t>(o.seeds) - 1 << ", "
        << static_cast<double>(scenario->duration) / sim::kHour << " h each)\n";
    out << sim::FormatSpreadTable(spreads);
    if (!o.report_path.empty()) out << "report: " << o.report_path << "\n";
  } else {
    out << "scenario " << scenario->name << " (seed " << scenario->seed << ", "
        << static_cast<double>(scenario->duration) / sim::kHour << " h)\n";
    out << sim::FormatTable(runs);
    if (!o.report_path.empty()) out << "report: " << o.report_path << "\n";
  }
  return 0;
}

}  // namespace spk::cli
