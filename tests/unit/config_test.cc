#include "leadenrich/config.h"

#include <cstdio>
#include <fstream>
#include <map>

#include <doctest/doctest.h>

#include "internal/url.h"

using namespace leadenrich;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

constexpr const char* kToken = "tok_SUPERSECRET_123";
constexpr const char* kKey = "p0_SECRETKEY_456";

}  // namespace

TEST_CASE("every documented variable is read from the environment") {
  Config c;
  Status s = apply_env(c, env_of({{"ATURIYA_BEARER_TOKEN", kToken},
                                  {"ATURIYA_USER_ID", "user_1"},
                                  {"ATURIYA_AGENT_ID", "agent_0123456789abcdef0123456789abcdef"},
                                  {"ATURIYA_BASE_URL", "http://127.0.0.1:9000/"},
                                  {"PIPE0_API_KEY", kKey},
                                  {"PIPE0_BASE_URL", "http://127.0.0.1:9001"},
                                  {"PIPE0_ENVIRONMENT", "sandbox"},
                                  {"LEADENRICH_SIGNALS", "news,funding"},
                                  {"LEADENRICH_PIPE_COMPANY_OVERVIEW", "company:overview@3"}}));
  REQUIRE(s.ok());
  CHECK(c.aturiya_bearer_token.reveal() == kToken);
  CHECK(c.aturiya_user_id == "user_1");
  CHECK(c.aturiya_base_url == "http://127.0.0.1:9000");
  CHECK(c.pipe0_api_key.reveal() == kKey);
  CHECK(c.pipe0_base_url == "http://127.0.0.1:9001");
  CHECK(c.pipe0_environment == Pipe0Environment::kSandbox);
  CHECK(c.enabled_signals == std::vector<Signal>{Signal::kNews, Signal::kFunding});
  CHECK(c.signal_enabled(Signal::kNews));
  CHECK_FALSE(c.signal_enabled(Signal::kTechStack));
  CHECK(c.spec(Signal::kCompanyOverview).pipe_id == "company:overview@3");
  CHECK(c.check_aturiya().ok());
  CHECK(c.check_pipe0().ok());
}

TEST_CASE("defaults follow the contracts") {
  Config c;
  CHECK(c.aturiya_base_url == "https://api.aturiya.ai");
  CHECK(c.pipe0_base_url == "https://api.pipe0.com");
  CHECK(c.pipe0_environment == Pipe0Environment::kProduction);
  CHECK(c.enabled_signals.size() == kSignalCount);
}

TEST_CASE("invalid values name the variable and never show a secret") {
  struct Case {
    const char* name;
    const char* value;
    const char* message_starts;
  };
  const Case cases[] = {
      {"PIPE0_ENVIRONMENT", "staging", "PIPE0_ENVIRONMENT must be 'production' or 'sandbox'"},
      {"LEADENRICH_SIGNALS", "news,jobs", "LEADENRICH_SIGNALS: unknown signal 'jobs'"},
      {"LEADENRICH_SIGNALS", ",,", "LEADENRICH_SIGNALS names no signal"},
      {"PIPE0_BASE_URL", "api.pipe0.com", "PIPE0_BASE_URL must be an http:// or https:// URL"},
      {"LEADENRICH_PIPE_NEWS", "company:newssummary", "LEADENRICH_PIPE_NEWS must be a pipe id with its version"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    Config config;
    Status s = apply_env(config, env_of({{c.name, c.value}, {"PIPE0_API_KEY", kKey}, {"ATURIYA_BEARER_TOKEN", kToken}}));
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message().rfind(c.message_starts, 0) == 0);
    CHECK(s.message().find(kKey) == std::string::npos);
    CHECK(s.message().find(kToken) == std::string::npos);
  }
}

TEST_CASE("missing credentials are named with what they are for") {
  Config c;
  Status a = c.check_aturiya();
  CHECK(a.code() == StatusCode::kFailedPrecondition);
  CHECK(a.message().find("ATURIYA_BEARER_TOKEN") != std::string::npos);
  CHECK(a.message().find("ATURIYA_USER_ID") != std::string::npos);
  CHECK(a.message().find("ATURIYA_AGENT_ID") != std::string::npos);
  c.aturiya_bearer_token = Secret("x");
  c.aturiya_user_id = "u";
  CHECK(c.check_aturiya().message().find("ATURIYA_BEARER_TOKEN") == std::string::npos);
  CHECK(c.check_pipe0().message().find("PIPE0_API_KEY") != std::string::npos);
}

TEST_CASE("to_string shows every setting but no secret") {
  Config c;
  c.aturiya_bearer_token = Secret(kToken);
  c.pipe0_api_key = Secret(kKey);
  std::string s = c.to_string();
  CHECK(s.find(kToken) == std::string::npos);
  CHECK(s.find(kKey) == std::string::npos);
  CHECK(s.find("ATURIYA_BEARER_TOKEN=***") != std::string::npos);
  CHECK(s.find("PIPE0_API_KEY=***") != std::string::npos);
  CHECK(s.find("LEADENRICH_PIPE_LINKEDIN_POSTS=people:posts:crustdata@1") != std::string::npos);
  CHECK(Config().to_string().find("PIPE0_API_KEY=(unset)") != std::string::npos);
}

TEST_CASE("user:password in a base URL never shows: not in to_string, not in an error") {
  Config c;
  c.pipe0_base_url = "https://proxyuser:PROXYPASS@proxy.example:8443/pipe0";
  c.aturiya_base_url = "http://a:ATURIYAPASS@127.0.0.1:9000";
  std::string s = c.to_string();
  CHECK(s.find("PROXYPASS") == std::string::npos);
  CHECK(s.find("ATURIYAPASS") == std::string::npos);
  CHECK(s.find("PIPE0_BASE_URL=https://***@proxy.example:8443/pipe0\n") != std::string::npos);
  Config bad;
  Status st = apply_env(bad, env_of({{"PIPE0_BASE_URL", "htp://u:PROXYPASS@proxy.example"}}));
  CHECK(st.code() == StatusCode::kInvalidArgument);
  CHECK(st.message().find("PROXYPASS") == std::string::npos);
  CHECK(st.message().find("proxy.example") != std::string::npos);
}

TEST_CASE("url_with_userinfo_masked masks only the authority's user information") {
  using internal::url_with_userinfo_masked;
  CHECK(url_with_userinfo_masked("https://u:p@host:1/a?b=c@d") == "https://***@host:1/a?b=c@d");
  CHECK(url_with_userinfo_masked("https://host/path@x") == "https://host/path@x");  // an @ in the path stays
  CHECK(url_with_userinfo_masked("http://u@host") == "http://***@host");
  CHECK(url_with_userinfo_masked("u:p@host/x") == "***@host/x");
  CHECK(url_with_userinfo_masked("https://a@b@host") == "https://***@host");
  CHECK(url_with_userinfo_masked("") == "");
}

TEST_CASE(".env parsing handles comments, quotes and export") {
  auto vars = parse_dotenv(
      "# leadenrich settings\n"
      "export PIPE0_API_KEY=abc123\n"
      "ATURIYA_USER_ID = user_7   # inline comment\n"
      "QUOTED=\"two words # not a comment\\n next\"\n"
      "SINGLE='lit\\eral $x'\r\n"
      "EMPTY=\n"
      "\n"
      "URL=https://api.example.com/a#b\n");
  REQUIRE(vars.ok());
  CHECK(vars->at("PIPE0_API_KEY") == "abc123");
  CHECK(vars->at("ATURIYA_USER_ID") == "user_7");
  CHECK(vars->at("QUOTED") == "two words # not a comment\n next");
  CHECK(vars->at("SINGLE") == "lit\\eral $x");
  CHECK(vars->at("EMPTY").empty());
  CHECK(vars->at("URL") == "https://api.example.com/a#b");
}

TEST_CASE(".env errors say file and line and never the value") {
  auto no_eq = parse_dotenv("A=1\nPIPE0_API_KEY p0_SECRETKEY_456\n", "/app/.env");
  CHECK(no_eq.status().message() == "/app/.env:2: expected KEY=value");
  auto unterminated = parse_dotenv("PIPE0_API_KEY=\"p0_SECRETKEY_456\n", ".env");
  CHECK(unterminated.status().message() == ".env:1: unterminated double-quoted value for PIPE0_API_KEY");
  auto bad_name = parse_dotenv("1BAD=x\n", ".env");
  CHECK(bad_name.status().message() == ".env:1: the name before '=' is not a valid variable name");
}

TEST_CASE("load_config reads .env and lets the environment win") {
  std::string path = "config_test_dotenv.env";
  {
    std::ofstream out(path);
    out << "PIPE0_API_KEY=from_file\nATURIYA_USER_ID=file_user\nPIPE0_ENVIRONMENT=sandbox\n";
  }
  LoadOptions opts;
  opts.dotenv_path = path;
  opts.env = env_of({{"ATURIYA_USER_ID", "env_user"}});
  Result<Config> c = load_config(opts);
  REQUIRE(c.ok());
  CHECK(c->pipe0_api_key.reveal() == "from_file");
  CHECK(c->aturiya_user_id == "env_user");
  CHECK(c->pipe0_environment == Pipe0Environment::kSandbox);

  opts.dotenv_path = "does-not-exist.env";
  CHECK(load_config(opts).ok());
  std::remove(path.c_str());
}
