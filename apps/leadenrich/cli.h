// The leadenrich command line: shared pieces of the subcommands.
#ifndef LEADENRICH_APPS_CLI_H_
#define LEADENRICH_APPS_CLI_H_

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "leadenrich/config.h"
#include "leadenrich/engine.h"
#include "leadenrich/status.h"

namespace leadenrich::cli {

/// Documented exit codes (README "Exit codes").
inline constexpr int kExitOk = 0;           ///< every lead enriched with no failed lookup, no bad row
inline constexpr int kExitPartial = 1;      ///< some lookups failed or some rows were bad
inline constexpr int kExitUsage = 2;        ///< usage or configuration error
inline constexpr int kExitUpstream = 3;     ///< an API was unreachable or rejected our credentials
inline constexpr int kExitStore = 4;        ///< the store (cache and journal) cannot be used

enum class LogFormat { kText, kJson };

/// Options every command shares.
struct GlobalOptions {
  bool quiet = false;
  bool verbose = false;
  LogFormat log_format = LogFormat::kText;
  std::string env_file = ".env";
};

/// Human output on stderr (stdout is for data): one-line messages, a progress bar on a
/// terminal or periodic plain lines elsewhere, and the end-of-run summary.
class Reporter {
 public:
  explicit Reporter(const GlobalOptions& options);
  void info(const std::string& message) const;
  void warn(const std::string& message) const;
  void error(const std::string& message) const;
  /// Called often; draws at most every 100 ms on a terminal, every 5 s otherwise.
  void progress(const Progress& p);
  /// Ends a progress bar line, if one is drawn.
  void end_progress();
  void summary(const RunSummary& s, const std::vector<std::string>& outputs, bool sandbox) const;
  void plan(const Plan& p, const Config& config) const;

 private:
  void log(const char* level, const std::string& message) const;
  GlobalOptions options_;
  bool tty_ = false;
  bool bar_drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

/// The exit code for a failed Status: usage/config errors 2, upstream trouble 3, the store 4.
int exit_code_for(const Status& status);

}  // namespace leadenrich::cli

#endif  // LEADENRICH_APPS_CLI_H_
