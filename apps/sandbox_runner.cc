#include "sandbox_runner.h"

#include <csignal>
#include <cstdio>
#include <memory>

#include <fmt/format.h>

namespace leadenrich::apps {

int run_sandbox_in_foreground(const SandboxOptions& options,
                              const std::function<void(const std::string&)>& error) {
  // SIGINT and SIGTERM are blocked before the sandbox starts its threads (they inherit the mask),
  // so a signal that arrives at any moment — even before the URL is printed — waits here for
  // sigwait instead of killing the process with the default action.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop_signals, &previous);

  Result<std::unique_ptr<Sandbox>> sandbox = Sandbox::start(options);
  if (!sandbox.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    error(sandbox.status().message());
    return kSandboxCannotStart;
  }
  fmt::print("{}\n{}", (*sandbox)->base_url(), (*sandbox)->environment());
  std::fflush(stdout);
  int received = 0;
  sigwait(&stop_signals, &received);
  (*sandbox)->stop();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return 0;
}

}  // namespace leadenrich::apps
