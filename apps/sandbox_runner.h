// The sandbox in the foreground, as `leadenrich sandbox` and `leadenrich-sandbox` both run it.
#ifndef LEADENRICH_APPS_SANDBOX_RUNNER_H_
#define LEADENRICH_APPS_SANDBOX_RUNNER_H_

#include <functional>
#include <string>

#include "leadenrich/testing/sandbox.h"

namespace leadenrich::apps {

/// Exit code when the sandbox cannot start (the port is taken, say).
inline constexpr int kSandboxCannotStart = 3;

/// Starts a sandbox with `options`, prints its base URL on the first line of stdout and then the
/// variables that point clients at it, serves until SIGINT or SIGTERM, and stops it. Returns 0,
/// or kSandboxCannotStart after passing the reason to `error`.
int run_sandbox_in_foreground(const SandboxOptions& options,
                              const std::function<void(const std::string&)>& error);

}  // namespace leadenrich::apps

#endif  // LEADENRICH_APPS_SANDBOX_RUNNER_H_
