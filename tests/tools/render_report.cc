// render_report IN.json OUT.html: the simulator's HTML report (src/report) for a
// simulation result file, for the headless-Chromium check and for looking at it.
// Exit status: 0 written, 1 the input is not valid JSON or not the contract, 2 usage or I/O.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "report/report.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: render_report IN.json OUT.html\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "render_report: cannot read " << argv[1] << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  using Clock = std::chrono::steady_clock;
  const auto parse_start = Clock::now();
  nlohmann::json result = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (result.is_discarded()) {
    std::cerr << "render_report: " << argv[1] << " is not valid JSON\n";
    return 1;
  }
  const auto render_start = Clock::now();
  auto html = spk::report::RenderHtmlReport(result);
  const auto render_end = Clock::now();
  if (!html.ok()) {
    std::cerr << "render_report: " << html.status().ToString() << "\n";
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << *html;
  out.close();
  if (!out) {
    std::cerr << "render_report: cannot write " << argv[2] << "\n";
    return 2;
  }
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::cerr << "render_report: wrote " << argv[2] << " (" << html->size() << " bytes; parse "
            << ms(render_start - parse_start) << " ms, render " << ms(render_end - render_start)
            << " ms)\n";
  return 0;
}
