#include "launcher/launch_plan.h"

namespace spk::launcher {

std::string DirName(std::string_view path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) return ".";
  std::string_view dir = path.substr(0, slash);
  while (!dir.empty() && dir.back() == '/') dir.remove_suffix(1);
  return dir.empty() ? "/" : std::string(dir);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

LaunchPlan PlanLaunch(std::string_view self_path, const std::vector<std::string>& args) {
  const std::string dir = DirName(self_path);
  const std::string lib = JoinPath(dir, "lib");
  LaunchPlan plan;
  plan.program = JoinPath(lib, "ld-linux-x86-64.so.2");
  plan.argv = {plan.program, "--library-path", lib, JoinPath(dir, "bin/spotkeeper"), "lambda"};
  plan.argv.insert(plan.argv.end(), args.begin(), args.end());
  return plan;
}

}  // namespace spk::launcher
