// The Aturiya client over a fake transport: envelopes, every paging stop rule, the page cap,
// the campaign filter, limits while paging, and credential errors.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include "leadenrich/aturiya.h"
#include "leadenrich/testing/fake_clock.h"
#include "leadenrich/testing/fake_transport.h"

using namespace leadenrich;

namespace {

constexpr const char* kToken = "atr_SECRET_token";

struct Harness {
  std::shared_ptr<testing::FakeTransport> transport = std::make_shared<testing::FakeTransport>();
  std::shared_ptr<AturiyaConnection> aturiya;
  Harness() {
    AturiyaOptions o;
    o.base_url = "https://api.aturiya.test";
    o.token = Secret(kToken);
    o.user_id = "user 1";
    o.agent_id = "agent_0123456789abcdef0123456789abcdef";
    aturiya = make_aturiya_connection(o, transport, std::make_shared<testing::FakeClock>()).value();
  }
};

std::string leads_json(int from, int count, const std::string& campaign = "c1") {
  std::string out = "[";
  for (int i = 0; i < count; ++i) {
    out += fmt::format(R"({}{{"lead_id":"l{}","campaign_id":"{}","name":"N{}"}})", i ? "," : "", from + i, campaign, from + i);
  }
  return out + "]";
}

std::string page(int from, int count, const std::string& pagination) {
  return fmt::format(R"({{"code":200,"message":"ok","data":{}{}}})", leads_json(from, count),
                     pagination.empty() ? "" : ",\"pagination\":" + pagination);
}

}  // namespace

TEST_CASE("campaigns come from the envelope's data, with ids in the path and the token in the header") {
  Harness h;
  h.transport->push_response(200, R"({"code":200,"message":"ok","data":[{"id":"c1","name":"Q4","icp_summary":"x"},{"name":"no id"}]})");
  Result<std::vector<Campaign>> c = h.aturiya->campaigns();
  REQUIRE(c.ok());
  REQUIRE(c->size() == 1);
  CHECK(c->front().name == "Q4");
  CHECK(c->front().extra.front().first == "icp_summary");
  HttpRequest sent = h.transport->requests().at(0);
  CHECK(sent.url == "https://api.aturiya.test/users/user%201/agents/sdr/agent_0123456789abcdef0123456789abcdef/campaigns");
  CHECK(sent.headers.get("Authorization") == std::string("Bearer ") + kToken);
}

TEST_CASE("a non-2xx code inside an HTTP 200 envelope is an error") {
  Harness h;
  h.transport->push_response(200, R"({"code":500,"message":"database down","data":null})");
  Status st = h.aturiya->campaigns().status();
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(st.message() == "Aturiya reported code 500 for campaigns: database down");
}

TEST_CASE("401 says the token was rejected, without the token") {
  Harness h;
  h.transport->push_response(401, R"({"message":"Invalid or expired token","code":401})");
  Status st = h.aturiya->campaigns().status();
  CHECK(st.code() == StatusCode::kUnauthenticated);
  CHECK(st.message() == "Aturiya rejected the token (ATURIYA_BEARER_TOKEN) for campaigns: Invalid or expired token");
  CHECK(st.message().find(kToken) == std::string::npos);
}

TEST_CASE("a missing token sends nothing and names every missing variable") {
  auto transport = std::make_shared<testing::FakeTransport>();
  Result<std::shared_ptr<AturiyaConnection>> c = make_aturiya_connection(AturiyaOptions{}, transport);
  CHECK(c.status().code() == StatusCode::kFailedPrecondition);
  CHECK(c.status().message().find("ATURIYA_BEARER_TOKEN") != std::string::npos);
  CHECK(c.status().message().find("ATURIYA_AGENT_ID") != std::string::npos);
  CHECK(transport->request_count() == 0);
}

TEST_CASE("paging stops at has_next_page false, at total_pages, at an empty page, and at a short page") {
  SUBCASE("has_next_page false") {
    Harness h;
    h.transport->push_response(200, page(0, 2, R"({"page":1,"has_next_page":true})"));
    h.transport->push_response(200, page(2, 2, R"({"page":2,"has_next_page":false})"));
    CHECK(h.aturiya->leads("c1", {.per_page = 2, .limit = std::nullopt}).value().size() == 4);
    CHECK(h.transport->request_count() == 2);
  }
  SUBCASE("page >= total_pages") {
    Harness h;
    h.transport->push_response(200, page(0, 2, R"({"page":1,"total_pages":2})"));
    h.transport->push_response(200, page(2, 2, R"({"page":2,"total_pages":2})"));
    CHECK(h.aturiya->leads("c1", {.per_page = 2, .limit = std::nullopt}).value().size() == 4);
    CHECK(h.transport->request_count() == 2);
  }
  SUBCASE("an empty page") {
    Harness h;
    h.transport->push_response(200, page(0, 2, R"({"has_next_page":true})"));
    h.transport->push_response(200, page(2, 0, R"({"has_next_page":true})"));
    CHECK(h.aturiya->leads("c1", {.per_page = 2, .limit = std::nullopt}).value().size() == 2);
    CHECK(h.transport->request_count() == 2);
  }
  SUBCASE("a short page without a pagination object") {
    Harness h;
    h.transport->push_response(200, page(0, 2, ""));
    h.transport->push_response(200, page(2, 1, ""));
    CHECK(h.aturiya->leads("c1", {.per_page = 2, .limit = std::nullopt}).value().size() == 3);
    CHECK(h.transport->request_count() == 2);
  }
}

TEST_CASE("a server that always says next page is stopped by the page cap") {
  Harness h;
  h.transport->set_handler([](const HttpRequest&) {
    HttpOutcome o;
    o.response = HttpResponse{200, {}, page(0, 2, R"({"has_next_page":true,"total_pages":999999})")};
    return o;
  });
  Result<std::vector<RawLead>> leads = h.aturiya->leads("c1", {.per_page = 2, .limit = std::nullopt, .max_pages = 5});
  REQUIRE(leads.ok());
  CHECK(h.transport->request_count() == 5);
}

TEST_CASE("both per_page and limit are sent, and a limit stops paging early") {
  Harness h;
  h.transport->set_handler([](const HttpRequest& r) {
    HttpOutcome o;
    o.response = HttpResponse{200, {}, page(0, 3, R"({"has_next_page":true})")};
    (void)r;
    return o;
  });
  Result<std::vector<RawLead>> leads = h.aturiya->leads("c1", {.per_page = 3, .limit = 5});
  REQUIRE(leads.ok());
  CHECK(leads->size() == 5);
  CHECK(h.transport->request_count() == 2);
  std::string url = h.transport->requests()[0].url;
  CHECK(url.find("campaign_id=c1") != std::string::npos);
  CHECK(url.find("page=1") != std::string::npos);
  CHECK(url.find("per_page=3") != std::string::npos);
  CHECK(url.find("limit=3") != std::string::npos);
}

TEST_CASE("leads of another campaign are dropped on the client side") {
  Harness h;
  h.transport->push_response(200, fmt::format(R"({{"code":200,"data":[{},{}]}})",
                                              R"({"lead_id":"a","campaign_id":"c1"})", R"({"lead_id":"b","campaign_id":"c2"})"));
  Result<AturiyaConnection::Page> p = h.aturiya->leads_page("c1", 1, 100);
  REQUIRE(p.ok());
  CHECK(p->leads.size() == 1);
  CHECK(p->dropped_other_campaign == 1);
}

TEST_CASE("the lead source reports a bad item and goes on; a failed page ends it") {
  Harness h;
  h.transport->push_response(200, R"({"code":200,"data":[{"lead_id":"a"},{"name":"no id"},{"lead_id":"c"}],"pagination":{"has_next_page":true}})");
  h.transport->push_response(503, R"({"message":"down"})");
  h.transport->push_response(503, R"({"message":"down"})");
  h.transport->push_response(503, R"({"message":"down"})");
  h.transport->push_response(503, R"({"message":"down"})");
  h.transport->push_response(503, R"({"message":"down"})");
  auto source = make_aturiya_source(h.aturiya, "c1");
  std::vector<std::string> seen;
  while (auto item = source->next()) {
    seen.push_back(item->lead.ok() ? item->lead->lead_id : (item->fatal ? "FATAL " : "BAD ") + item->lead.status().message());
  }
  REQUIRE(seen.size() == 4);
  CHECK(seen[0] == "a");
  CHECK(seen[1] == "BAD page 1 item 2: lead.lead_id: missing or empty");
  CHECK(seen[2] == "c");
  CHECK(seen[3].rfind("FATAL Aturiya answered HTTP 503", 0) == 0);
}

TEST_CASE("one lead: found, or kNotFound") {
  Harness h;
  h.transport->push_response(200, R"({"code":200,"data":{"lead_id":"l1","email":"a@b.com","x_extra":1}})");
  Result<RawLead> l = h.aturiya->lead("l1");
  REQUIRE(l.ok());
  CHECK(l->extra.size() == 1);
  h.transport->push_response(404, R"({"code":404,"message":"lead not found"})");
  CHECK(h.aturiya->lead("zz").status().code() == StatusCode::kNotFound);
}
