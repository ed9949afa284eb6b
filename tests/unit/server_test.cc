// The server's pieces that need no socket: API keys, and the flights that coalesce lookups.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "internal/flights.h"
#include "leadenrich/server.h"

using namespace leadenrich;
using internal::Flights;

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

TEST_CASE("the first caller for a key flies it; a second waits for it to land") {
  Flights flights;
  std::atomic<bool> landed{false};
  std::atomic<std::size_t> waited{99};
  Flights::Ticket first = flights.board({"company:a.com"});
  CHECK(first.waited() == 0);
  std::thread second([&] {
    Flights::Ticket t = flights.board({"company:a.com"});
    waited = t.waited();
    CHECK(landed.load());  // it could only get here after the first landed
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  landed = true;
  first = Flights::Ticket();  // lands
  second.join();
  CHECK(waited == 1);
  // Nobody flies it now: the next caller flies it without waiting.
  CHECK(flights.board({"company:a.com"}).waited() == 0);
}

TEST_CASE("different keys never wait; duplicates in one boarding count once") {
  Flights flights;
  Flights::Ticket a = flights.board({"company:a.com", "company:a.com"});
  Flights::Ticket b = flights.board({"company:b.com"});
  CHECK(a.waited() == 0);
  CHECK(b.waited() == 0);
}

TEST_CASE("many callers boarding overlapping key sets in any order all finish") {
  Flights flights;
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 200; ++round) {
        std::vector<std::string> keys{"k" + std::to_string((i + round) % 5), "k" + std::to_string((i * 7 + round) % 5),
                                      "k" + std::to_string(round % 3)};
        if (i % 2) std::swap(keys[0], keys[2]);
        Flights::Ticket t = flights.board(keys);
      }
      ++done;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(done == 16);
}
