// Webhook URLs a job may name, and the signature a delivery carries (docs/server.md, "Webhooks").
#include <doctest/doctest.h>

#include "internal/jobs.h"

using leadenrich::StatusCode;
using leadenrich::internal::check_webhook_url;
using leadenrich::internal::webhook_signature;

TEST_CASE("a webhook URL is http(s), without user info, to an allowed host") {
  const std::vector<std::string> hosts{"hooks.example.com", "127.0.0.1", "[::1]"};
  for (const char* ok : {"https://hooks.example.com/x", "http://HOOKS.example.com:8080/x?y=1", "http://127.0.0.1",
                         "http://[::1]:9000/hook", "HTTPS://hooks.example.com#frag"}) {
    CAPTURE(ok);
    CHECK(check_webhook_url(ok, hosts).ok());
  }
  struct Bad {
    const char* url;
    const char* says;
  };
  for (Bad bad : {Bad{"ftp://hooks.example.com/x", "http:// or https://"},
                  Bad{"hooks.example.com/x", "http:// or https://"},
                  Bad{"https://user:pw@hooks.example.com/x", "user info"},
                  Bad{"https://hooks.example.com@evil.example/x", "user info"},
                  Bad{"https://evil.example/x", "host evil.example is not in LEADENRICH_WEBHOOK_HOSTS"},
                  Bad{"https://hooks.example.com.evil.example/", "not in LEADENRICH_WEBHOOK_HOSTS"},
                  Bad{"http://169.254.169.254/latest/meta-data", "not in LEADENRICH_WEBHOOK_HOSTS"},
                  Bad{"http://127.0.0.1:99999/", "bad port"},
                  Bad{"http://127.0.0.1:/", "bad port"},
                  Bad{"http:///path", "no host"},
                  Bad{"http://[::1/", "unclosed"},
                  Bad{"http://hooks.example.com/a b", "space"},
                  Bad{"http://hooks.example.com/\r\nX-Injected: 1", "control character"}}) {
    CAPTURE(bad.url);
    leadenrich::Status st = check_webhook_url(bad.url, hosts);
    CHECK(st.code() == StatusCode::kInvalidArgument);
    CHECK(st.message().find(bad.says) != std::string::npos);
  }
  CHECK(check_webhook_url("http://anything.example/x", {"*"}).ok());
  leadenrich::Status off = check_webhook_url("https://hooks.example.com/x", {});
  CHECK(off.code() == StatusCode::kFailedPrecondition);
  CHECK(off.message().find("webhooks are off") != std::string::npos);
  CHECK(check_webhook_url("https://hooks.example.com/" + std::string(2048, 'a'), hosts).message().find("2048") !=
        std::string::npos);
}

TEST_CASE("the signature is the hex HMAC-SHA256 of timestamp.body under the secret") {
  // Computed independently with Python's hmac module.
  CHECK(webhook_signature("whsec_test", "1764000000", R"({"event":"job.finished"})") ==
        "827f27ca45a42ce3b56c229e81f18a490b9e04de255755006dc7310b6139687c");
  CHECK(webhook_signature("whsec_test", "1764000001", R"({"event":"job.finished"})") !=
        webhook_signature("whsec_test", "1764000000", R"({"event":"job.finished"})"));
}
