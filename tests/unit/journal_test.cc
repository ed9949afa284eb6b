// The run journal's parts below the engine: batched recording, claims that die with their
// process, which runs count as unfinished, and what makes a delivered lead not a result.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include <doctest/doctest.h>

#include "leadenrich/journal.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "unit/temp_dir.h"

using namespace leadenrich;
using namespace std::chrono_literals;

namespace {

using testing::TempDir;

std::shared_ptr<Store> open(const std::string& path) {
  SqliteStoreOptions o;
  o.path = path;
  return open_sqlite_store(o).value();
}

Timestamp t0() { return parse_timestamp("2026-11-25T00:00:00Z").value(); }

EnrichedLead lead_with(const std::string& id, SignalStatus news, const char* reason = "") {
  EnrichedLead lead;
  lead.lead.lead_id = id;
  lead.result(Signal::kNews).status = news;
  if (*reason != '\0') lead.result(Signal::kNews).reason = Reason{reason, "why"};
  return lead;
}

}  // namespace

TEST_CASE("record_leads writes a batch in one transaction, in any order, replacing what was there") {
  TempDir dir;
  auto store = open(dir.file("store.db"));
  std::string id = store->begin_run("input", t0()).value();
  std::vector<std::pair<std::size_t, EnrichedLead>> batch;
  for (std::size_t i : {4, 0, 2}) batch.emplace_back(i, lead_with("l" + std::to_string(i), SignalStatus::kFound));
  REQUIRE(store->record_leads(id, batch, t0() + 1s).ok());
  REQUIRE(store->record_leads(id, {}, t0() + 2s).ok());
  REQUIRE(store->record_leads(id, {{2, lead_with("l2", SignalStatus::kNoResult)}}, t0() + 3s).ok());
  auto leads = store->run_leads(id).value();
  REQUIRE(leads.size() == 3);
  CHECK(leads[0].first == 0);
  CHECK(leads[1].second.result(Signal::kNews).status == SignalStatus::kNoResult);
  CHECK(store->run(id)->updated_at == t0() + 3s);
  CHECK(store->run(id)->leads_done == 3);
}

TEST_CASE("a claimed run is busy for every other claimant and is not offered as unfinished") {
  TempDir dir;
  auto mine = open(dir.file("store.db"));
  auto other = open(dir.file("store.db"));  // its own file descriptions: like another process
  std::string id = mine->begin_run("input", t0()).value();
  CHECK_FALSE(*other->run_claimed(id));
  REQUIRE(mine->claim_run(id).ok());
  CHECK(*other->run_claimed(id));
  Status again = other->claim_run(id);
  CHECK(again.code() == StatusCode::kFailedPrecondition);
  CHECK(again.message() == "run " + id + " is still going in another process");
  CHECK(mine->claim_run(id).code() == StatusCode::kFailedPrecondition);  // twice in one process neither
  CHECK_FALSE(other->find_unfinished_run("input")->has_value());
  mine->release_run(id);
  CHECK_FALSE(*other->run_claimed(id));
  CHECK(other->find_unfinished_run("input")->value().id == id);
  CHECK_FALSE(std::filesystem::exists(dir.file("store.db") + "-" + id + ".lock"));
  CHECK(mine->claim_run("../../etc/passwd").code() == StatusCode::kInvalidArgument);
}

TEST_CASE("a claim dies with the process that held it") {
  TempDir dir;
  std::string path = dir.file("store.db");
  std::string id = open(path)->begin_run("input", t0()).value();
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto store = open(path);
    char ok = store->claim_run(id).ok() ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    ::pause();  // killed below
    ::_exit(0);
  }
  char ok = 0;
  REQUIRE(::read(ready[0], &ok, 1) == 1);
  CHECK(ok == 'y');
  auto store = open(path);
  CHECK(*store->run_claimed(id));
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK_FALSE(*store->run_claimed(id));  // its lock file is still there, unlocked
  CHECK(store->claim_run(id).ok());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("a lead with a cancelled lookup is unfinished; other failures are results") {
  CHECK(unfinished_by_cancel(lead_with("a", SignalStatus::kFailed, "cancelled")));
  CHECK_FALSE(unfinished_by_cancel(lead_with("b", SignalStatus::kFailed, "unavailable")));
  CHECK_FALSE(unfinished_by_cancel(lead_with("c", SignalStatus::kFound)));
}

TEST_CASE("a list of leads is described by count and content") {
  RawLead a, b;
  a.lead_id = "a";
  b.lead_id = "b";
  std::string ab = describe_leads({a, b}, {Signal::kNews});
  CHECK(ab.rfind("2 leads given in memory (content ", 0) == 0);
  CHECK(ab.find("; signals news") != std::string::npos);
  CHECK(describe_leads({a, b}, {Signal::kNews}) == ab);
  CHECK(describe_leads({b, a}, {Signal::kNews}) != ab);
  CHECK(describe_leads({a, b}, {Signal::kFunding}) != ab);
}
