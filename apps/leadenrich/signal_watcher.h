// Ctrl-C and SIGTERM for the enrich command.
#ifndef LEADENRICH_APPS_SIGNAL_WATCHER_H_
#define LEADENRICH_APPS_SIGNAL_WATCHER_H_

#include <atomic>
#include <csignal>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cli.h"

namespace leadenrich::cli {

/// SIGINT and SIGTERM are taken by a thread of their own with sigwait: a signal handler may only
/// call async-signal-safe functions, while this thread may print, cancel the run and exit.
/// Before enriching starts there is nothing to save, so a signal ends the process at once (exit
/// 1); while enriching, the first signal cancels the run (what was finished is still written)
/// and a second one ends the process.
class SignalWatcher {
 public:
  /// Must be constructed before any other thread starts, so that every thread inherits the
  /// blocked mask and only sigwait ever takes these signals. They stay blocked afterwards: a
  /// signal after the run is over changes nothing.
  explicit SignalWatcher(const Reporter& reporter);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  /// From now on a signal cancels `token` instead of ending the process; the warning says what
  /// that means for the user ("stopping: <stopping>").
  void enriching(std::shared_ptr<CancellationToken> token,
                 std::string stopping = "what is finished will be written (again to stop at once)");

 private:
  void watch();

  const Reporter& reporter_;
  sigset_t set_{};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::shared_ptr<CancellationToken> token_;
  std::string stopping_;
  std::thread thread_;
};

}  // namespace leadenrich::cli

#endif  // LEADENRICH_APPS_SIGNAL_WATCHER_H_
