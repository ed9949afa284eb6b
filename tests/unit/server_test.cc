// The server's pieces that need no socket: API keys, the flights that coalesce lookups, log
// escaping and metric labels; and stop(), on a server listening on a loopback port.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "internal/api_keys.h"
#include "internal/http_front.h"
#include "leadenrich/engine.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/server.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/fake_transport.h"

using namespace leadenrich;

TEST_CASE("API keys come from a comma list and match exactly") {
  std::vector<Secret> keys = parse_api_keys(" alpha-key , beta-key,,\tgamma ");
  REQUIRE(keys.size() == 3);
  CHECK(keys[0].reveal() == "alpha-key");
  CHECK(keys[2].reveal() == "gamma");
  CHECK(parse_api_keys("").empty());
  CHECK(parse_api_keys(" , ").empty());

  CHECK(api_key_matches(keys, "alpha-key"));
  CHECK(api_key_matches(keys, "beta-key"));
  CHECK(api_key_matches(keys, "gamma"));
  CHECK_FALSE(api_key_matches(keys, "alpha-ke"));    // a prefix
  CHECK_FALSE(api_key_matches(keys, "alpha-keyy"));  // longer
  CHECK_FALSE(api_key_matches(keys, "gammagamma"));  // a repetition
  CHECK_FALSE(api_key_matches(keys, "Alpha-key"));
  CHECK_FALSE(api_key_matches(keys, ""));
  CHECK_FALSE(api_key_matches({}, "alpha-key"));
  CHECK_FALSE(api_key_matches({Secret("")}, ""));  // an empty key never matches
}

TEST_CASE("log escaping leaves no control byte, and metric methods come from a fixed set") {
  using internal::escape_for_log;
  CHECK(escape_for_log("/api/leads/x-1/enrich") == "/api/leads/x-1/enrich");
  CHECK(escape_for_log("/a\nGET /forged 200") == "/a\\x0aGET /forged 200");
  CHECK(escape_for_log("\x1b[31mred\r") == "\\x1b[31mred\\x0d");
  CHECK(escape_for_log("back\\slash") == "back\\x5cslash");
  CHECK(escape_for_log(std::string("nul\0x", 5)) == "nul\\x00x");
  CHECK(escape_for_log("\xe2\x98\x83\x7f") == "\\xe2\\x98\\x83\\x7f");

  CHECK(internal::method_label("GET") == "GET");
  CHECK(internal::method_label("HEAD") == "HEAD");
  CHECK(internal::method_label("get") == "other");
  CHECK(internal::method_label("X}_1_evil{a=\"b\"") == "other");
  CHECK(internal::method_label("") == "other");
}

TEST_CASE("stop() from many threads at once: each returns once the server has stopped") {
  Config config;
  config.pipe0_api_key = Secret("unit-test-key");
  Pipe0Options pipe0 = pipe0_options(config);
  auto transport = std::make_shared<testing::FakeTransport>();
  std::shared_ptr<Pipe0Connection> connection = make_pipe0_connection(pipe0, transport).value();
  SqliteStoreOptions so;
  so.path = ":memory:";
  std::shared_ptr<Store> store = open_sqlite_store(so).value();
  ServerBackend backend;
  backend.store = store;
  backend.enricher = std::make_shared<Enricher>(config, connection, store);
  ServerOptions options;
  options.port = 0;
  options.api_keys = parse_api_keys("unit-key");
  options.threads = 2;
  std::unique_ptr<Server> server = Server::start(options, backend).value();
  CHECK(server->port() > 0);

  // Before: two callers both joined the serving thread (std::system_error, or undefined
  // behaviour); now every caller waits for the one stop and returns after it.
  std::atomic<int> returned{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      server->stop();
      ++returned;
    });
  }
  server->wait();  // returns: the server has stopped
  for (std::thread& t : callers) t.join();
  CHECK(returned == 8);
  server->stop();  // and once more, after
  server.reset();  // the destructor stops too
}

// ---- the front's request reader: bytes in, one complete request (or a refusal) out ----

using internal::RequestReader;
using ReadProgress = RequestReader::Progress;

TEST_CASE("a request arriving in pieces comes out whole, in one framing, leaving the next one") {
  RequestReader reader(1024, 100);
  std::string in = "POST /api/enrich HTTP/1.1\r\nHost: x\r\nCont";
  CHECK(reader.feed(in) == ReadProgress::kWait);
  in += "ent-Length: 4\r\nExpect: 100-continue\r\n\r\n{}";
  CHECK(reader.feed(in) == ReadProgress::kWait);
  CHECK(reader.take_continue());
  CHECK_FALSE(reader.take_continue());  // once
  in += "  GET /api/health HTTP/1.1\r\n\r\n";
  REQUIRE(reader.feed(in) == ReadProgress::kReady);
  CHECK(reader.take_request() == "POST /api/enrich HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\n{}  ");
  CHECK(in == "GET /api/health HTTP/1.1\r\n\r\n");  // pipelined: left for the next request
  REQUIRE(reader.feed(in) == ReadProgress::kReady);
  CHECK(reader.take_request() == "GET /api/health HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(in.empty());
}

TEST_CASE("a chunked body is decoded, byte by byte too, and handed on with its length") {
  RequestReader reader(1024, 100);
  std::string wire = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n1\r\nd\r\n0\r\nTrailer: t\r\n\r\n";
  std::string in;
  ReadProgress p = ReadProgress::kWait;
  for (char c : wire) {
    REQUIRE(p == ReadProgress::kWait);
    in += c;
    p = reader.feed(in);
  }
  REQUIRE(p == ReadProgress::kReady);
  CHECK(reader.take_request() == "POST /x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd");
}

TEST_CASE("the body limit holds for Content-Length and for chunks, before the data arrives") {
  RequestReader reader(1024, 10);
  std::string in = "POST /x HTTP/1.1\r\nContent-Length: 11\r\n\r\n";
  REQUIRE(reader.feed(in) == ReadProgress::kRefused);
  CHECK(reader.refusal().status == 413);
  CHECK(reader.refusal().message == "request body over the limit of 10 bytes");

  RequestReader chunks(1024, 10);
  in = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n";  // 11 in all
  REQUIRE(chunks.feed(in) == ReadProgress::kRefused);
  CHECK(chunks.refusal().status == 413);
  CHECK(chunks.method() == "POST");
  CHECK(chunks.path() == "/x");

  RequestReader huge(1024, 10);
  in = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffff\r\n";
  REQUIRE(huge.feed(in) == ReadProgress::kRefused);
  CHECK(huge.refusal().status == 413);
}

TEST_CASE("malformed or ambiguous framing is refused") {
  auto refused = [](std::string in, std::size_t max_head = 1024) {
    RequestReader reader(max_head, 100);
    return reader.feed(in) == ReadProgress::kRefused ? reader.refusal().status : 0;
  };
  CHECK(refused("POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n") == 400);
  CHECK(refused("POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
  CHECK(refused("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
  CHECK(refused("POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n") == 501);
  CHECK(refused("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == 400);
  CHECK(refused("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabc") == 400);
  CHECK(refused("GET /x HTTP/1.1\r\n folded: x\r\n\r\n") == 400);
  CHECK(refused("GET\r\n\r\n") == 400);
  CHECK(refused("X}{\" /x HTTP/1.1\r\n\r\n") == 400);
  CHECK(refused("GET /x HTTP/1.1\r\nX-Pad: " + std::string(100, 'a') + "\r\n\r\n", 64) == 431);
  CHECK(refused("GET /x HTTP/1.1\r\nX-Pad: " + std::string(100, 'a'), 64) == 431);  // before its end
}
