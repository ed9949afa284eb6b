// What every WorkQueue (work_queue.h) must do, whatever the backend: two store objects over one
// database stand for two processes. Run by work_queue_test.cc on SQLite and, where a server is
// at hand, on PostgreSQL.
#ifndef LEADENRICH_TESTS_UNIT_WORK_QUEUE_CONFORMANCE_H_
#define LEADENRICH_TESTS_UNIT_WORK_QUEUE_CONFORMANCE_H_

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>

#include "leadenrich/store.h"
#include "leadenrich/work_queue.h"
#include "unit/shared_store_fixture.h"

namespace leadenrich::testing {
namespace wq {

inline RawLead lead(std::size_t i) {
  RawLead l;
  l.lead_id = "lead-" + std::to_string(i);
  l.organization = "Org " + std::to_string(i);
  l.website = "org" + std::to_string(i) + ".example";
  return l;
}

// `n` chunks of `per` leads each, numbered on from `first_index`.
inline std::vector<WorkChunk> chunks(std::size_t n, std::size_t per, std::size_t first_index = 0) {
  std::vector<WorkChunk> out(n);
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t i = 0; i < per; ++i) {
      std::size_t index = first_index + c * per + i;
      out[c].leads.emplace_back(index, lead(index));
    }
  }
  return out;
}

inline Timestamp now() { return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()); }

// A journal run made distributed with `n` chunks of `per` leads.
inline std::string distributed(Store& store, std::size_t n, std::size_t per, bool sealed = true) {
  std::string run_id = store.begin_run("conformance input " + std::to_string(n), now()).value();
  WorkQueue& q = *store.work_queue();
  REQUIRE(q.create_distributed(run_id, R"({"version":1})").ok());
  REQUIRE(q.add_chunks(run_id, chunks(n, per)).ok());
  if (sealed) REQUIRE(q.seal(run_id).ok());
  return run_id;
}

}  // namespace wq

inline void work_queue_conformance(const SharedStoreFactory& factory) {
  using namespace std::chrono_literals;
  std::unique_ptr<SharedStoreFixture> fixture = factory();
  std::shared_ptr<Store> a = fixture->open();
  std::shared_ptr<Store> b = fixture->open();
  REQUIRE(a->work_queue() != nullptr);
  REQUIRE(b->work_queue() != nullptr);
  WorkQueue& qa = *a->work_queue();
  WorkQueue& qb = *b->work_queue();
  const std::string backend = fixture->backend();

  SUBCASE("create, add, seal: the run's counts as the other process sees them") {
    std::string run_id = a->begin_run("input x", wq::now()).value();
    CHECK_FALSE(qb.distributed_run(run_id).value().has_value());
    REQUIRE(qa.create_distributed(run_id, R"({"version":1,"signals":["news"]})").ok());
    Status again = qb.create_distributed(run_id, "{}");
    CHECK(again.code() == StatusCode::kAborted);
    CHECK(again.provider() == kStoreProvider);
    REQUIRE(qa.add_chunks(run_id, wq::chunks(2, 3)).ok());
    REQUIRE(qb.add_chunks(run_id, wq::chunks(1, 2, 6)).ok());
    std::optional<DistributedRun> run = qb.distributed_run(run_id).value();
    REQUIRE(run.has_value());
    CHECK(run->spec == R"({"version":1,"signals":["news"]})");
    CHECK_FALSE(run->sealed);
    CHECK(run->chunks == 3);
    CHECK(run->leads == 8);
    CHECK(run->done == 0);
    REQUIRE(qb.seal(run_id).ok());
    CHECK(qa.distributed_run(run_id).value()->sealed);
    Status late = qa.add_chunks(run_id, wq::chunks(1, 1, 8));
    CHECK(late.code() == StatusCode::kFailedPrecondition);
    CHECK(late.provider() == kStoreProvider);
    CHECK(qa.distributed_run(run_id).value()->chunks == 3);
    std::vector<ChunkInfo> infos = qb.chunks(run_id).value();
    REQUIRE(infos.size() == 3);
    CHECK(infos[2].chunk == 2);
    CHECK(infos[2].first_index == 6);
    CHECK(infos[2].leads == 2);
    CHECK(infos[2].state == ChunkState::kQueued);
    CHECK(infos[2].claims == 0);
    CHECK(infos[2].worker.empty());
  }

  SUBCASE("chunks are claimed in order, oldest run first, each by one worker") {
    std::string first = wq::distributed(*a, 2, 2);
    std::this_thread::sleep_for(5ms);  // a later creation time for the second run
    std::string second = wq::distributed(*a, 1, 2);
    auto c1 = qa.claim_chunk("w1", 30s).value();
    auto c2 = qb.claim_chunk("w2", 30s).value();
    auto c3 = qb.claim_chunk("w2", 30s).value();
    REQUIRE(c1.has_value());
    REQUIRE(c2.has_value());
    REQUIRE(c3.has_value());
    CHECK(c1->run_id == first);
    CHECK(c1->chunk == 0);
    CHECK(c1->claims == 1);
    CHECK(c2->run_id == first);
    CHECK(c2->chunk == 1);
    CHECK(c3->run_id == second);
    CHECK(c3->chunk == 0);
    CHECK_FALSE(qa.claim_chunk("w3", 30s).value().has_value());
    std::vector<ChunkInfo> infos = qa.chunks(first).value();
    CHECK(infos[0].state == ChunkState::kWorking);
    CHECK(infos[0].worker == "w1");
    CHECK(infos[0].claims == 1);
    CHECK(infos[1].worker == "w2");
    CHECK(infos[0].lease_until > wq::now());
  }

  SUBCASE("a run_id filter claims only that run's chunks") {
    std::string first = wq::distributed(*a, 1, 1);
    std::this_thread::sleep_for(5ms);
    std::string second = wq::distributed(*a, 1, 1);
    auto c = qb.claim_chunk("w", 30s, second).value();
    REQUIRE(c.has_value());
    CHECK(c->run_id == second);
    CHECK_FALSE(qb.claim_chunk("w", 30s, second).value().has_value());
    CHECK_FALSE(qb.claim_chunk("w", 30s, std::string("run_unknown")).value().has_value());
    auto other = qb.claim_chunk("w", 30s).value();
    REQUIRE(other.has_value());
    CHECK(other->run_id == first);
  }

  SUBCASE("two workers claiming at once never get the same chunk") {
    const std::size_t n = 40;
    std::string run_id = wq::distributed(*a, n, 1);
    std::mutex mu;
    std::map<std::size_t, std::string> taken;
    std::vector<std::string> duplicates, errors;
    auto work = [&](WorkQueue& q, std::string worker) {
      while (true) {
        Result<std::optional<WorkChunk>> c = q.claim_chunk(worker, 30s);
        std::lock_guard lock(mu);
        if (!c.ok()) {
          errors.push_back(c.status().to_string());
          return;
        }
        if (!c->has_value()) return;
        if (!taken.emplace((*c)->chunk, worker).second) duplicates.push_back(worker);
      }
    };
    std::thread t1(work, std::ref(qa), "w1");
    std::thread t2(work, std::ref(qb), "w2");
    t1.join();
    t2.join();
    CHECK(errors.empty());
    CHECK(duplicates.empty());
    CHECK(taken.size() == n);
    std::vector<ChunkInfo> infos = qa.chunks(run_id).value();
    for (const ChunkInfo& info : infos) {
      CHECK(info.claims == 1);
      CHECK(info.worker == taken[info.chunk]);
    }
  }

  SUBCASE("only the holder renews or completes; an expired lease is claimed again") {
    std::string run_id = wq::distributed(*a, 1, 2);
    auto mine = qa.claim_chunk("w1", 30s).value();
    REQUIRE(mine.has_value());
    Status stranger = qb.renew_chunk(run_id, 0, "w2", 30s);
    CHECK(stranger.code() == StatusCode::kFailedPrecondition);
    CHECK(stranger.provider() == kStoreProvider);
    CHECK(qb.complete_chunk(run_id, 0, "w2").code() == StatusCode::kFailedPrecondition);
    CHECK(qa.renew_chunk(run_id, 0, "w1", 1ms).ok());
    std::this_thread::sleep_for(20ms);  // the 1 ms lease is over
    auto taken = qb.claim_chunk("w2", 30s).value();
    REQUIRE(taken.has_value());
    CHECK(taken->chunk == 0);
    CHECK(taken->claims == 2);
    CHECK(taken->leads == mine->leads);
    ChunkInfo info = qa.chunks(run_id).value().at(0);
    CHECK(info.claims == 2);
    CHECK(info.worker == "w2");
    CHECK(qa.renew_chunk(run_id, 0, "w1", 30s).code() == StatusCode::kFailedPrecondition);
    CHECK(qa.complete_chunk(run_id, 0, "w1").code() == StatusCode::kFailedPrecondition);
    REQUIRE(qb.complete_chunk(run_id, 0, "w2").ok());
    info = qa.chunks(run_id).value().at(0);
    CHECK(info.state == ChunkState::kDone);
    CHECK(info.worker == "w2");
    CHECK(qa.distributed_run(run_id).value()->done == 1);
    CHECK_FALSE(qa.claim_chunk("w3", 30s).value().has_value());
  }

  SUBCASE("a released chunk goes back to the queue; a release by a non-holder changes nothing") {
    std::string run_id = wq::distributed(*a, 1, 1);
    REQUIRE(qa.claim_chunk("w1", 30s).value().has_value());
    REQUIRE(qb.release_chunk(run_id, 0, "w2").ok());
    CHECK(qa.chunks(run_id).value().at(0).worker == "w1");
    REQUIRE(qa.release_chunk(run_id, 0, "w1").ok());
    ChunkInfo info = qb.chunks(run_id).value().at(0);
    CHECK(info.state == ChunkState::kQueued);
    CHECK(info.worker.empty());
    auto again = qb.claim_chunk("w2", 30s).value();
    REQUIRE(again.has_value());
    CHECK(again->claims == 2);
    CHECK(qa.chunks(run_id).value().at(0).claims == 2);
  }

  SUBCASE("only running runs are open, and a finished run's chunks are not claimed") {
    std::string finished = wq::distributed(*a, 1, 1);
    std::this_thread::sleep_for(5ms);
    std::string running = wq::distributed(*a, 1, 1, /*sealed=*/false);
    REQUIRE(a->finish_run(finished, RunState::kFinished, wq::now()).ok());
    std::vector<DistributedRun> open = qb.open_distributed_runs().value();
    REQUIRE(open.size() == 1);
    CHECK(open[0].run_id == running);
    CHECK_FALSE(open[0].sealed);
    CHECK_FALSE(qb.claim_chunk("w", 30s, finished).value().has_value());
    auto c = qb.claim_chunk("w", 30s).value();
    REQUIRE(c.has_value());
    CHECK(c->run_id == running);
  }

  SUBCASE("a chunk's leads come back exactly as they went in, with their input indexes") {
    std::string run_id = a->begin_run("round trip", wq::now()).value();
    REQUIRE(qa.create_distributed(run_id, "{}").ok());
    RawLead full;
    full.lead_id = "id-\"quoted\"";
    full.agent_id = "ag";
    full.campaign_id = "cmp";
    full.task_id = "t";
    full.task_status = "approved";
    full.campaign_name = "Q4 — Ünïcode";
    full.name = "Ada Lovelace";
    full.email = "ada@example.com";
    full.phone = "+44 20 7946 0000";
    full.organization = "Analytical Engines, Ltd.";
    full.designation = "CTO\nand founder";
    full.linkedin_url = "https://www.linkedin.com/in/ada";
    full.website = "https://engines.example";
    full.status = "pending";
    full.type = "new";
    full.created_at = "2026-11-25T02:00:00Z";
    full.extra.emplace_back("score", Json::parse("12.5").value());  // as a file source reads it
    full.extra.emplace_back("tags", Json(Json::Array{Json("a"), Json(true), Json()}));
    full.extra.emplace_back("empty", Json(""));
    RawLead bare;
    bare.lead_id = "bare";
    WorkChunk chunk;
    chunk.leads = {{7, full}, {9, bare}};
    REQUIRE(qa.add_chunks(run_id, {chunk}).ok());
    auto got = qb.claim_chunk("w", 30s, run_id).value();
    REQUIRE(got.has_value());
    CHECK(got->run_id == run_id);
    REQUIRE(got->leads.size() == 2);
    CHECK(got->leads[0].first == 7);
    CHECK(got->leads[0].second == full);
    CHECK(got->leads[1].first == 9);
    CHECK(got->leads[1].second == bare);
    CHECK(qb.chunks(run_id).value().at(0).first_index == 7);
  }

  SUBCASE("a run the journal or the queue does not know is kNotFound, naming it") {
    CHECK(qa.create_distributed("run_not_there", "{}").code() == StatusCode::kNotFound);
    Status seal = qa.seal("run_not_there");
    CHECK(seal.code() == StatusCode::kNotFound);
    CHECK(seal.message().find("run_not_there") != std::string::npos);
    CHECK(qa.add_chunks("run_not_there", wq::chunks(1, 1)).code() == StatusCode::kNotFound);
    CHECK(qa.chunks("run_not_there").value().empty());
  }
  (void)backend;
}

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_WORK_QUEUE_CONFORMANCE_H_
