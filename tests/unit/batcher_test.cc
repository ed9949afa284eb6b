// The batcher: groups by pipe set, cuts batches by kind and room, chooses sync or async by the
// records planned, parks retries and drains everything on cancellation.
#include <doctest/doctest.h>

#include "internal/batcher.h"
#include "leadenrich/pipe0.h"

using namespace leadenrich;
using namespace leadenrich::internal;
using namespace std::chrono_literals;

namespace {
const Mask kA = bit(Signal::kCompanyOverview);
const Mask kB = bit(Signal::kLinkedInPosts);
}  // namespace

TEST_CASE("entities with the same pipe set go together, cut to the batch size and the room") {
  EngineOptions o;
  o.sync_batch_size = 3;
  Batcher b(o);
  for (int i = 0; i < 5; ++i) b.enqueue("c" + std::to_string(i), kA);
  b.enqueue("p0", kB);
  CHECK(b.queued() == 6);
  std::optional<Group> g = b.take(100, true);
  REQUIRE(g);
  CHECK(g->mask == kA);
  CHECK(g->entities == std::vector<std::string>{"c0", "c1", "c2"});
  g = b.take(1, true);
  CHECK(g->entities == std::vector<std::string>{"c3"});
  g = b.take(100, true);
  CHECK(g->entities == std::vector<std::string>{"c4"});
  g = b.take(100, true);
  CHECK(g->mask == kB);
  CHECK_FALSE(b.take(100, true));
}

TEST_CASE("an async batch never exceeds pipe0's 100 records, whatever the option says") {
  EngineOptions o;
  o.async_batch_size = 500;
  Batcher b(o);
  for (int i = 0; i < 250; ++i) b.enqueue("c" + std::to_string(i), kA);
  CHECK(b.take(1000, false)->entities.size() == kPipe0MaxRecords);
}

TEST_CASE("auto mode chooses by the records planned, before the first is sent, and does not switch back") {
  EngineOptions o;
  o.auto_async_threshold = 10;
  Batcher small(o);
  for (int i = 0; i < 10; ++i) small.enqueue("c" + std::to_string(i), kA);
  CHECK(small.next_is_sync());
  Batcher large(o);
  for (int i = 0; i < 15; ++i) large.enqueue("c" + std::to_string(i), kA);
  CHECK_FALSE(large.next_is_sync());  // sent nothing yet: the plan decides
  while (large.take(100, false)) {
  }
  CHECK_FALSE(large.next_is_sync());
  o.mode = RunMode::kSync;
  CHECK(large.next_is_sync());
}

TEST_CASE("a parked retry waits for its time, then goes before what is queued") {
  EngineOptions o;
  Batcher b(o);
  Clock::SteadyTime t0{};
  b.enqueue("c1", kA);
  b.park(t0 + 5s, Group{kA, {"c0"}});
  CHECK(b.waiting() == 2);
  CHECK(b.queued() == 1);
  CHECK(*b.next_unpark() == t0 + 5s);
  b.unpark_due(t0 + 4s);
  CHECK(b.queued() == 1);
  b.unpark_due(t0 + 5s);
  CHECK(b.queued() == 2);
  CHECK(b.planned() == 1);  // a retry is not new work
  CHECK(b.take(100, true)->entities == std::vector<std::string>{"c0", "c1"});
}

TEST_CASE("drain hands back everything queued and parked, once") {
  EngineOptions o;
  Batcher b(o);
  b.enqueue("c0", kA);
  b.enqueue("p0", kB);
  b.park(Clock::SteadyTime{} + 1s, Group{kA, {"c9"}});
  std::vector<Group> all = b.drain();
  std::size_t n = 0;
  for (const Group& g : all) n += g.entities.size();
  CHECK(n == 3);
  CHECK(b.waiting() == 0);
  CHECK_FALSE(b.next_unpark());
  CHECK(b.drain().empty());
}
