// leadenrich-sandbox: the Aturiya and pipe0 APIs, emulated on loopback with synthetic data.
// Prints its base URL on the first line, then the variables that point clients at it.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "leadenrich/testing/sandbox.h"
#include "leadenrich/version.h"
#include "sandbox_runner.h"

int main(int argc, char** argv) {
  using namespace leadenrich;
  CLI::App app{"leadenrich-sandbox: emulates the Aturiya and pipe0 APIs with synthetic data"};
  app.set_version_flag("--version", std::string("leadenrich-sandbox ") + kVersion);
  SandboxOptions o;
  long long latency_ms = 0, jitter_ms = 0;
  bool quiet = false;
  app.add_option("--host", o.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", o.port, "Port (0 picks a free one)")->capture_default_str();
  app.add_option("--seed", o.seed, "Seed of the synthetic data")->capture_default_str();
  app.add_option("--campaigns", o.campaigns, "Campaigns to generate")->capture_default_str();
  app.add_option("--leads-per-campaign", o.leads_per_campaign, "Leads per campaign")->capture_default_str();
  app.add_option("--require-key", o.require_key, "Accept only this bearer key (default: any non-empty key)");
  app.add_option("--latency-ms", latency_ms, "Service time of a pipe0 run")->capture_default_str();
  app.add_option("--jitter-ms", jitter_ms, "Plus up to this much")->capture_default_str();
  app.add_option("--p1-capacity", o.p1_capacity, "P1 capacity in records")->capture_default_str();
  app.add_option("--rate-limit", o.rate_limit_per_minute, "pipe0 requests per minute before 429")->capture_default_str();
  app.add_option("--fail-5xx", o.faults.p_5xx, "Probability of a 503")->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-429", o.faults.p_429, "Probability of a 429")->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-reset", o.faults.p_reset, "Probability of a dropped connection")->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-truncated", o.faults.p_truncated, "Probability of a truncated body")->check(CLI::Range(0.0, 1.0));
  app.add_option("--fail-408", o.faults.p_408_sync, "Probability of a 408 on run/sync")->check(CLI::Range(0.0, 1.0));
  app.add_flag("-q,--quiet", quiet, "Do not log requests");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  o.faults.latency = std::chrono::milliseconds(latency_ms);
  o.faults.jitter = std::chrono::milliseconds(jitter_ms);
  if (!quiet) o.log = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  return apps::run_sandbox_in_foreground(
      o, [](const std::string& reason) { fmt::print(stderr, "leadenrich-sandbox: {}\n", reason); });
}
