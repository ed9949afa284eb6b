// Configuration: a plain struct, filled from code, environment variables and a .env file.
#ifndef LEADENRICH_CONFIG_H_
#define LEADENRICH_CONFIG_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "leadenrich/signals.h"
#include "leadenrich/status.h"

namespace leadenrich {

/// A credential. Its value is only had through reveal(); every other way of printing it shows
/// "***" (or "(unset)"), so a secret cannot leak into a log line or an error by accident.
class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string value) : value_(std::move(value)) {}
  bool empty() const { return value_.empty(); }
  /// The real value, for the one place that sends it (an Authorization header).
  const std::string& reveal() const { return value_; }
  /// "***" when set, "(unset)" when empty.
  std::string redacted() const { return empty() ? "(unset)" : "***"; }
  friend bool operator==(const Secret& a, const Secret& b) { return a.value_ == b.value_; }
  friend bool operator!=(const Secret& a, const Secret& b) { return !(a == b); }

 private:
  std::string value_;
};

enum class Pipe0Environment { kProduction, kSandbox };
/// "production" or "sandbox".
std::string_view to_string(Pipe0Environment e);

struct Config {
  std::string aturiya_base_url = "https://api.aturiya.ai";
  Secret aturiya_bearer_token;
  std::string aturiya_user_id;
  std::string aturiya_agent_id;

  std::string pipe0_base_url = "https://api.pipe0.com";
  Secret pipe0_api_key;
  Pipe0Environment pipe0_environment = Pipe0Environment::kProduction;

  /// Signals to look up; all five by default.
  std::vector<Signal> enabled_signals{kAllSignals.begin(), kAllSignals.end()};
  /// What each signal is: pipe ids, inputs, output field names, freshness, price, weight.
  std::vector<SignalSpec> signal_specs = default_signal_specs();

  /// LEADENRICH_STORE: the store the programs open, a SQLite path or a postgresql:// URI; empty
  /// for their default file. A --store flag wins; sandbox data never goes to it (it would mix
  /// synthetic answers into the real cache).
  std::string store;

  bool signal_enabled(Signal s) const;
  const SignalSpec& spec(Signal s) const { return find_spec(signal_specs, s); }

  /// Checks what reading leads from Aturiya needs: token, user id, agent id. The error names
  /// each missing variable and what it is for.
  Status check_aturiya() const;
  /// Checks what enrichment through pipe0 needs: the API key.
  Status check_pipe0() const;

  /// Multi-line, human-readable; secrets shown as "***".
  std::string to_string() const;
};

/// Where variables come from: a function from name to value (nullopt when unset).
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
/// The process environment.
EnvLookup process_env();

/// Parses .env text: `KEY=value` lines, `#` comments, blank lines, an optional `export ` prefix,
/// single quotes (literal) and double quotes (with \n, \", \\ escapes), and inline ` #` comments
/// after unquoted values. Errors read "FILE:LINE: what" and never contain a value.
Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text,
                                                        std::string_view file_name = ".env");

/// Applies variables to `config`: ATURIYA_BEARER_TOKEN, ATURIYA_USER_ID, ATURIYA_AGENT_ID,
/// ATURIYA_BASE_URL, PIPE0_API_KEY, PIPE0_BASE_URL, PIPE0_ENVIRONMENT (production|sandbox),
/// LEADENRICH_SIGNALS (comma list) and LEADENRICH_PIPE_<SIGNAL> (a pipe id, e.g.
/// LEADENRICH_PIPE_COMPANY_OVERVIEW=company:overview@3). Unset variables leave fields alone.
/// Returns kInvalidArgument naming the variable whose value is invalid.
Status apply_env(Config& config, const EnvLookup& env);

struct LoadOptions {
  /// The .env file to read when it exists; empty to read none.
  std::string dotenv_path = ".env";
  /// Variables from here win over the .env file.
  EnvLookup env = process_env();
};

/// Defaults, then the .env file, then the environment (which wins).
Result<Config> load_config(const LoadOptions& options = {});

}  // namespace leadenrich

#endif  // LEADENRICH_CONFIG_H_
