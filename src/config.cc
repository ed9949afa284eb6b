#include "leadenrich/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "internal/url.h"

namespace leadenrich {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool valid_key(std::string_view key) {
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key.front()))) return false;
  return std::all_of(key.begin(), key.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// LEADENRICH_PIPE_COMPANY_OVERVIEW for Signal::kCompanyOverview.
std::string pipe_variable(Signal s) {
  std::string name = "LEADENRICH_PIPE_";
  for (char c : to_string(s)) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

bool valid_pipe_id(std::string_view id) {
  std::size_t at = id.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 >= id.size()) return false;
  std::string_view version = id.substr(at + 1);
  return std::all_of(version.begin(), version.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
         id.find_first_of(" \t\"") == std::string_view::npos;
}

bool valid_base_url(std::string_view url) {
  return (url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0) && url.size() > 8 &&
         url.find_first_of(" \t\r\n") == std::string_view::npos;
}

}  // namespace

std::string_view to_string(Pipe0Environment e) {
  return e == Pipe0Environment::kSandbox ? "sandbox" : "production";
}

bool Config::signal_enabled(Signal s) const {
  return std::find(enabled_signals.begin(), enabled_signals.end(), s) != enabled_signals.end();
}

Status Config::check_aturiya() const {
  std::vector<std::string> missing;
  if (aturiya_bearer_token.empty()) missing.emplace_back("ATURIYA_BEARER_TOKEN (the Aturiya API token)");
  if (aturiya_user_id.empty()) missing.emplace_back("ATURIYA_USER_ID (your Aturiya user id)");
  if (aturiya_agent_id.empty()) missing.emplace_back("ATURIYA_AGENT_ID (the SDR agent id, agent_<32 hex>)");
  if (missing.empty()) return {};
  std::string list;
  for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
  return Status(StatusCode::kFailedPrecondition,
                fmt::format("reading leads from Aturiya needs {}: set it in the environment or .env", list));
}

Status Config::check_pipe0() const {
  if (!pipe0_api_key.empty()) return {};
  return Status(StatusCode::kFailedPrecondition,
                "enrichment needs PIPE0_API_KEY (the pipe0 API key): set it in the environment or .env, "
                "or use --sandbox");
}

std::string Config::to_string() const {
  std::string signals;
  for (Signal s : enabled_signals) signals += (signals.empty() ? "" : ",") + std::string(leadenrich::to_string(s));
  std::string out = fmt::format(
      "ATURIYA_BASE_URL={}\nATURIYA_BEARER_TOKEN={}\nATURIYA_USER_ID={}\nATURIYA_AGENT_ID={}\n"
      "PIPE0_BASE_URL={}\nPIPE0_API_KEY={}\nPIPE0_ENVIRONMENT={}\nLEADENRICH_SIGNALS={}\n",
      internal::url_with_userinfo_masked(aturiya_base_url), aturiya_bearer_token.redacted(), aturiya_user_id,
      aturiya_agent_id, internal::url_with_userinfo_masked(pipe0_base_url),
      pipe0_api_key.redacted(), leadenrich::to_string(pipe0_environment), signals);
  for (const SignalSpec& spec : signal_specs) {
    out += fmt::format("{}={}\n", pipe_variable(spec.signal), spec.pipe_id);
  }
  if (!store.empty()) out += fmt::format("LEADENRICH_STORE={}\n", internal::url_with_userinfo_masked(store));
  return out;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<std::map<std::string, std::string>> parse_dotenv(std::string_view text, std::string_view file_name) {
  std::map<std::string, std::string> vars;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  auto error = [&](std::string_view what) {
    return invalid_argument(fmt::format("{}:{}: {}", file_name, line_no, what));
  };
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = trim(line);
    if (line.empty() || line.front() == '#') {
      if (eol == text.size()) break;
      continue;
    }
    if (line.rfind("export ", 0) == 0 || line.rfind("export\t", 0) == 0) line = trim(line.substr(7));
    std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error("expected KEY=value");
    std::string_view key = trim(line.substr(0, eq));
    if (!valid_key(key)) return error("the name before '=' is not a valid variable name");
    std::string_view raw = trim(line.substr(eq + 1));
    std::string value;
    if (!raw.empty() && (raw.front() == '"' || raw.front() == '\'')) {
      char quote = raw.front();
      std::size_t i = 1;
      bool closed = false;
      for (; i < raw.size(); ++i) {
        char c = raw[i];
        if (c == quote) {
          closed = true;
          break;
        }
        if (quote == '"' && c == '\\' && i + 1 < raw.size()) {
          char n = raw[++i];
          value.push_back(n == 'n' ? '\n' : n == 't' ? '\t' : n == 'r' ? '\r' : n);
        } else {
          value.push_back(c);
        }
      }
      if (!closed) return error(fmt::format("unterminated {}-quoted value for {}", quote == '"' ? "double" : "single", key));
      std::string_view rest = trim(raw.substr(i + 1));
      if (!rest.empty() && rest.front() != '#') return error(fmt::format("unexpected text after the quoted value of {}", key));
    } else {
      std::size_t hash = raw.find(" #");
      if (hash == std::string_view::npos) hash = raw.find("\t#");
      value = std::string(trim(raw.substr(0, hash)));
    }
    vars[std::string(key)] = std::move(value);
    if (eol == text.size()) break;
  }
  return vars;
}

Status apply_env(Config& config, const EnvLookup& env) {
  auto get = [&](std::string_view name) -> std::optional<std::string> {
    std::optional<std::string> v = env(name);
    if (v && trim(*v).empty()) return std::nullopt;
    if (v) return std::string(trim(*v));
    return v;
  };
  auto url = [&](std::string_view name, std::string& field) -> Status {
    if (auto v = get(name)) {
      if (!valid_base_url(*v)) {
        return invalid_argument(
            fmt::format("{} must be an http:// or https:// URL, got '{}'", name, internal::url_with_userinfo_masked(*v)));
      }
      while (v->size() > 8 && v->back() == '/') v->pop_back();
      field = *v;
    }
    return {};
  };
  if (auto v = get("ATURIYA_BEARER_TOKEN")) config.aturiya_bearer_token = Secret(*v);
  if (auto v = get("ATURIYA_USER_ID")) config.aturiya_user_id = *v;
  if (auto v = get("ATURIYA_AGENT_ID")) config.aturiya_agent_id = *v;
  LEADENRICH_RETURN_IF_ERROR(url("ATURIYA_BASE_URL", config.aturiya_base_url));
  if (auto v = get("PIPE0_API_KEY")) config.pipe0_api_key = Secret(*v);
  LEADENRICH_RETURN_IF_ERROR(url("PIPE0_BASE_URL", config.pipe0_base_url));
  if (auto v = get("PIPE0_ENVIRONMENT")) {
    if (*v == "production") {
      config.pipe0_environment = Pipe0Environment::kProduction;
    } else if (*v == "sandbox") {
      config.pipe0_environment = Pipe0Environment::kSandbox;
    } else {
      return invalid_argument(fmt::format("PIPE0_ENVIRONMENT must be 'production' or 'sandbox', got '{}'", *v));
    }
  }
  if (auto v = get("LEADENRICH_STORE")) config.store = *v;
  if (auto v = get("LEADENRICH_SIGNALS")) {
    Result<std::vector<Signal>> list = parse_signal_list(*v);
    if (!list.ok()) return invalid_argument(fmt::format("LEADENRICH_SIGNALS: {}", list.status().message()));
    if (list->empty()) return invalid_argument("LEADENRICH_SIGNALS names no signal");
    config.enabled_signals = *list;
  }
  for (SignalSpec& spec : config.signal_specs) {
    std::string name = pipe_variable(spec.signal);
    if (auto v = get(name)) {
      if (!valid_pipe_id(*v)) {
        return invalid_argument(fmt::format("{} must be a pipe id with its version, like 'company:overview@2', got '{}'",
                                            name, *v));
      }
      spec.pipe_id = *v;
    }
  }
  return {};
}

Result<Config> load_config(const LoadOptions& options) {
  std::map<std::string, std::string> file_vars;
  if (!options.dotenv_path.empty()) {
    std::ifstream in(options.dotenv_path, std::ios::binary);
    if (in) {
      std::ostringstream text;
      text << in.rdbuf();
      Result<std::map<std::string, std::string>> parsed = parse_dotenv(text.str(), options.dotenv_path);
      if (!parsed.ok()) return parsed.status();
      file_vars = std::move(parsed).value();
    }
  }
  EnvLookup env = options.env ? options.env : process_env();
  EnvLookup merged = [&](std::string_view name) -> std::optional<std::string> {
    if (auto v = env(name)) return v;
    auto it = file_vars.find(std::string(name));
    if (it != file_vars.end()) return it->second;
    return std::nullopt;
  };
  Config config;
  LEADENRICH_RETURN_IF_ERROR(apply_env(config, merged));
  return config;
}

}  // namespace leadenrich
