#include "sandbox_runner.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <thread>

#include <fmt/format.h>

namespace leadenrich::apps {
namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }
}  // namespace

int run_sandbox_in_foreground(const SandboxOptions& options,
                              const std::function<void(const std::string&)>& error) {
  Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
  if (!sandbox.ok()) {
    error(sandbox.status().message());
    return kSandboxCannotStart;
  }
  fmt::print("{}\n{}", (*sandbox)->base_url(), (*sandbox)->environment());
  std::fflush(stdout);
  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  (*sandbox)->stop();
  return 0;
}

}  // namespace leadenrich::apps
