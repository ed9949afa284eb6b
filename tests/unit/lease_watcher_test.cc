// The lease watcher over a fake store (a cache and a lease table in memory, behind the run's
// cache hooks) and a fake clock: when it polls, what it reads, how it backs off, and what it
// hands back — answers found, leases come free, store errors.
#include <map>
#include <set>
#include <string>

#include <doctest/doctest.h>

#include "internal/lease_watcher.h"
#include "leadenrich/testing/fake_clock.h"

using namespace leadenrich;
using namespace leadenrich::internal;
using namespace std::chrono_literals;

namespace {

using Key = std::pair<std::string, Signal>;

// Another process's leases and answers as the run's hooks see them; every call is counted.
struct FakeStore {
  std::map<Key, LookupOutcome> cache;
  std::map<Key, std::string> leases;  // key -> owner ("me" or another)
  Status fail_leases;                 // the next acquire_leases fails with this when not ok
  int gets = 0, acquire_calls = 0, releases = 0;
  std::vector<std::size_t> acquire_sizes;
  // Called after the reads of a poll, before it asks for leases (a race with the other owner).
  std::function<void()> before_acquire;
  CacheHooks hooks;

  FakeStore() {
    hooks.get = [this](Signal s, const std::string& entity) -> std::optional<LookupOutcome> {
      ++gets;
      auto it = cache.find({entity, s});
      if (it == cache.end()) return std::nullopt;
      return it->second;
    };
    hooks.acquire_leases = [this](const std::vector<LookupKey>& keys) -> Result<std::vector<bool>> {
      if (before_acquire) before_acquire();
      ++acquire_calls;
      acquire_sizes.push_back(keys.size());
      if (!fail_leases.ok()) return fail_leases;
      std::vector<bool> out;
      for (const LookupKey& k : keys) {
        auto [it, inserted] = leases.try_emplace({k.entity, k.signal}, "me");
        out.push_back(inserted || it->second == "me");
      }
      return out;
    };
    hooks.release_lease = [this](Signal s, const std::string& entity) {
      ++releases;
      auto it = leases.find({entity, s});
      if (it != leases.end() && it->second == "me") leases.erase(it);
    };
  }

  // The other process stores its answer, which ends its lease.
  void answer(const std::string& entity, Signal s, const std::string& summary) {
    LookupOutcome o;
    o.result.status = SignalStatus::kFound;
    o.result.from_cache = true;
    o.value = News{summary};
    cache[{entity, s}] = o;
    leases.erase({entity, s});
  }
};

LookupKey news(const std::string& entity) { return LookupKey{Signal::kNews, entity}; }

}  // namespace

TEST_CASE("the watcher polls all its lookups in one pass, first 50 ms after it starts watching") {
  FakeStore store;
  testing::FakeClock clock;
  LeaseWatcher w(store.hooks);
  store.leases[{"company:a.com", Signal::kNews}] = "other";
  store.leases[{"company:b.com", Signal::kNews}] = "other";
  store.leases[{"company:c.com", Signal::kNews}] = "other";
  auto t = clock.steady_now();
  w.watch(news("company:a.com"), t);
  w.watch(news("company:b.com"), t);
  w.watch(news("company:c.com"), t);
  w.watch(news("company:c.com"), t);  // watching twice is watching once
  CHECK(w.size() == 3);
  REQUIRE(w.next_poll() == t + 50ms);

  LeaseWatcher::PollResult early = w.poll(t + 49ms);
  CHECK(early.answered.empty());
  CHECK(store.gets == 0);

  store.answer("company:b.com", Signal::kNews, "News of b");
  LeaseWatcher::PollResult r = w.poll(t + 50ms);
  CHECK(store.gets == 3);                                   // each watched lookup read once
  CHECK(store.acquire_sizes == std::vector<std::size_t>{2});  // one lease call for the two still missing
  REQUIRE(r.answered.size() == 1);
  CHECK(r.answered[0].key.entity == "company:b.com");
  CHECK(std::get<News>(r.answered[0].outcome.value).summary == "News of b");
  CHECK(r.taken.empty());
  CHECK(w.size() == 2);  // the answered one is no longer watched
}

TEST_CASE("the watcher backs off from 50 ms to 500 ms while nothing changes, and starts over on news") {
  FakeStore store;
  testing::FakeClock clock;
  LeaseWatcher w(store.hooks);
  store.leases[{"company:a.com", Signal::kNews}] = "other";
  store.leases[{"company:b.com", Signal::kNews}] = "other";
  auto t = clock.steady_now();
  w.watch(news("company:a.com"), t);
  w.watch(news("company:b.com"), t);
  std::vector<std::chrono::milliseconds> gaps;
  auto at = *w.next_poll();
  for (int i = 0; i < 6; ++i) {
    CHECK(w.poll(at).answered.empty());
    auto next = *w.next_poll();
    gaps.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(next - at));
    at = next;
  }
  CHECK(gaps == std::vector<std::chrono::milliseconds>{100ms, 200ms, 400ms, 500ms, 500ms, 500ms});
  store.answer("company:a.com", Signal::kNews, "News of a");
  CHECK(w.poll(at).answered.size() == 1);
  CHECK(*w.next_poll() - at == 50ms);
}

TEST_CASE("a lease that comes free without an answer is this process's: the lookup is handed back to send") {
  FakeStore store;
  testing::FakeClock clock;
  LeaseWatcher w(store.hooks);
  store.leases[{"company:a.com", Signal::kNews}] = "other";
  auto t = clock.steady_now();
  w.watch(news("company:a.com"), t);
  CHECK(w.poll(t + 50ms).taken.empty());
  store.leases.erase({"company:a.com", Signal::kNews});  // the owner failed, or died and its lease expired
  LeaseWatcher::PollResult r = w.poll(*w.next_poll());
  REQUIRE(r.taken.size() == 1);
  CHECK(r.taken[0].entity == "company:a.com");
  CHECK(r.answered.empty());
  CHECK(store.leases.at({"company:a.com", Signal::kNews}) == "me");
  CHECK(w.empty());
  CHECK_FALSE(w.next_poll().has_value());
}

TEST_CASE("an answer stored between the watcher's read and its lease is taken from the cache, and the lease let go") {
  FakeStore store;
  testing::FakeClock clock;
  LeaseWatcher w(store.hooks);
  store.leases[{"company:a.com", Signal::kNews}] = "other";
  auto t = clock.steady_now();
  w.watch(news("company:a.com"), t);
  store.before_acquire = [&] { store.answer("company:a.com", Signal::kNews, "News of a"); };
  LeaseWatcher::PollResult r = w.poll(t + 50ms);
  CHECK(r.taken.empty());
  REQUIRE(r.answered.size() == 1);
  CHECK(std::get<News>(r.answered[0].outcome.value).summary == "News of a");
  CHECK(store.releases == 1);
  CHECK(store.leases.empty());
}

TEST_CASE("a store error while watching is reported and changes nothing; forgotten lookups are not read") {
  FakeStore store;
  testing::FakeClock clock;
  LeaseWatcher w(store.hooks);
  auto t = clock.steady_now();
  store.leases[{"company:a.com", Signal::kNews}] = "other";
  store.leases[{"company:b.com", Signal::kNews}] = "other";
  w.watch(news("company:a.com"), t);
  w.watch(news("company:b.com"), t);
  w.forget(news("company:b.com"));
  store.fail_leases = Status(StatusCode::kUnavailable, "store /tmp/x.db: take lookup leases: database is locked");
  LeaseWatcher::PollResult r = w.poll(t + 50ms);
  CHECK(r.error.code() == StatusCode::kUnavailable);
  CHECK(r.answered.empty());
  CHECK(r.taken.empty());
  CHECK(store.gets == 1);
  CHECK(w.size() == 1);
}
