#include "signal_watcher.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace leadenrich::cli {

SignalWatcher::SignalWatcher(const Reporter& reporter) : reporter_(reporter) {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  thread_ = std::thread([this] { watch(); });
}

SignalWatcher::~SignalWatcher() {
  stop_ = true;
  thread_.join();
}

void SignalWatcher::enriching(std::shared_ptr<CancellationToken> token, std::string stopping) {
  std::lock_guard lock(mu_);
  token_ = std::move(token);
  stopping_ = std::move(stopping);
}

void SignalWatcher::watch() {
  int received = 0;
  while (!stop_) {
    timespec tick{0, 100'000'000};  // wakes to notice stop_
    int sig = sigtimedwait(&set_, nullptr, &tick);
    if (sig < 0) continue;
    const char* name = sig == SIGINT ? "SIGINT" : "SIGTERM";
    if (::isatty(STDERR_FILENO) == 1) std::fputs("\n", stderr);  // off a progress bar's line
    std::lock_guard lock(mu_);
    if (!token_ || ++received > 1) {
      reporter_.error(fmt::format("{}: stopped{}", name, token_ ? " without writing the output" : ""));
      std::_Exit(kExitPartial);
    }
    reporter_.warn(fmt::format("{}: stopping; {}", name, stopping_));
    token_->cancel();
  }
}

}  // namespace leadenrich::cli
