#include "internal/run.h"

#include <algorithm>

#include <fmt/format.h>

#include "internal/batch_tracker.h"
#include "internal/batcher.h"
#include "internal/capacity.h"
#include "internal/intake.h"
#include "internal/lookup_table.h"
#include "internal/retry_loop.h"
#include "internal/run_lookups.h"
#include "leadenrich/pipe0.h"

namespace leadenrich::internal {
namespace {

using std::chrono::milliseconds;

// How long the loop waits at most before looking at the cancellation token again.
constexpr milliseconds kWaitSlice{100};

class Run {
 public:
  Run(const RunContext& ctx, LeadSource& source, const LeadSink& sink, const BadRowSink& on_bad_row)
      : ctx_(ctx), opts_(*ctx.options), sink_(sink), mailbox_(std::make_shared<Mailbox>()),
        delivery_(*ctx.config, *ctx.clock), batcher_(opts_), capacity_(opts_.max_records_in_flight),
        tracker_(opts_), lookups_(ctx, delivery_, batcher_, summary_, progress_, mailbox_),
        intake_(ctx, source, on_bad_row, delivery_, lookups_, summary_, progress_) {}

  Result<RunSummary> execute() {
    Clock::SteadyTime start = now();
    while (true) {
      if (cancel_requested()) cancel_all();
      intake_.read([this] { emit_ready(); });  // leads answered by the cache or earlier lookups leave at once
      process_mail();
      lookups_.poll_leases();
      batcher_.unpark_due(now());
      for (std::size_t id : tracker_.due_polls(now())) poll(id);
      submit_ready();
      emit_ready();
      if (opts_.progress) opts_.progress(progress_);
      if (intake_.done() && delivery_.empty()) break;
      wait_for_work();
    }
    summary_.wall_time = std::chrono::duration_cast<milliseconds>(now() - start);
    summary_.companies = intake_.companies();
    summary_.people = intake_.people();
    if (!intake_.error().ok()) return intake_.error();
    return summary_;
  }

 private:
  const SignalSpec& spec(Signal s) const { return ctx_.config->spec(s); }
  Clock::SteadyTime now() const { return ctx_.clock->steady_now(); }
  bool cancel_requested() const { return opts_.cancel && opts_.cancel->cancelled() && !summary_.cancelled; }

  // ---- sending ----

  void submit_ready() {
    if (summary_.cancelled) return;
    if (!lookups_.fatal().ok()) {
      for (const Group& g : batcher_.drain()) lookups_.conclude_all(g.entities, g.mask, lookups_.fatal(), "", false);
      return;
    }
    if (now() < pause_until_) return;
    while (!probing_) {
      std::vector<Taken> round = take_round();
      if (round.empty()) return;
      std::vector<Group> groups;
      for (Taken& t : round) groups.push_back(std::move(t.group));
      // With a shared store, other processes may hold the leases of some of their lookups (or
      // have answered them meanwhile): what is left of each group goes.
      groups = lookups_.lease(std::move(groups));
      for (std::size_t i = 0; i < round.size(); ++i) {
        if (!groups[i].entities.empty() && round[i].probe) probing_ = true;
        if (!groups[i].entities.empty()) send(std::move(groups[i]), round[i].sync);
      }
    }
  }

  struct Taken {
    Group group;
    bool sync = false;
    bool probe = false;
  };

  // The batches the room in flight allows now (leased together, then sent).
  std::vector<Taken> take_round() {
    std::vector<Taken> round;
    std::size_t taking = 0;
    while (true) {
      std::size_t in_flight = tracker_.records_in_flight() + taking;
      std::size_t limit = capacity_.limit();
      if (in_flight >= limit || (capacity_.hold() && in_flight > 0)) break;
      bool sync = batcher_.next_is_sync();
      // Capacity is unknown and there is more work than the first window: one async run's
      // admission answer (back in milliseconds, unlike a sync run's) tells it before the rest go.
      bool probe = !answered_ && opts_.mode != RunMode::kSync && batcher_.waiting() + in_flight > limit &&
                   (opts_.max_records_in_flight == 0 || limit < opts_.max_records_in_flight);
      std::optional<Group> g = batcher_.take(limit - in_flight, sync && !probe);
      if (!g) break;
      taking += g->entities.size();
      round.push_back(Taken{std::move(*g), sync && !probe, probe});
      if (probe) break;  // it goes alone
    }
    return round;
  }

  void send(Group g, bool sync) {
    BatchRequest req;
    for (Signal s : kAllSignals) {
      if (g.mask & bit(s)) req.pipe_ids.push_back(spec(s).pipe_id);
    }
    for (std::size_t k = 0; k < g.entities.size(); ++k) {
      req.records.push_back(BatchRecord{std::to_string(k + 1), lookups_.inputs(g.entities[k])});
    }
    std::size_t n = g.entities.size();
    summary_.records_sent += n;
    ++summary_.requests;
    ++progress_.requests;
    ++outstanding_;
    std::size_t id = tracker_.add(Batch{g.mask, std::move(g.entities), sync, "", now(), tracker_.records_in_flight() + n});
    progress_.records_in_flight = tracker_.records_in_flight();
    if (sync) {
      ctx_.pipe0->run_sync(std::move(req), callback(id));
    } else {
      ctx_.pipe0->create_run(std::move(req), callback(id));
    }
  }

  BatchCallback callback(std::size_t id) {
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    return [mailbox, id](Result<BatchResponse> r) { mailbox->post(BatchEvent{id, std::move(r)}); };
  }

  void poll(std::size_t id) {
    ++summary_.requests;
    ++progress_.requests;
    ++outstanding_;
    ctx_.pipe0->check(tracker_.find(id)->run_id, callback(id));
  }

  // ---- answers ----

  void process_mail() {
    std::deque<BatchEvent> events;
    std::deque<Landing> landings;
    {
      std::lock_guard lock(mailbox_->mu);
      events.swap(mailbox_->events);
      landings.swap(mailbox_->landings);
    }
    for (Landing& l : landings) lookups_.on_landing(l);
    lookups_.hold_answers();  // the answers that have come are stored together (a few transactions at most)
    for (BatchEvent& ev : events) {
      --outstanding_;
      if (tracker_.find(ev.batch) == nullptr) continue;  // abandoned (cancelled)
      answered_ = true;
      probing_ = false;
      if (ev.response.ok()) {
        on_answer(ev.batch, ev.response.value());
      } else {
        on_failure(ev.batch, ev.response.status());
      }
    }
    lookups_.release_answers();
    // Only now are those answers stored: the journal may forget their pipe0 runs.
    for (const std::string& run_id : stored_runs_) ctx_.cache.settled(run_id);
    stored_runs_.clear();
    progress_.records_in_flight = tracker_.records_in_flight();
  }

  void on_answer(std::size_t id, const BatchResponse& resp) {
    Batch& b = *tracker_.find(id);
    summary_.retries += static_cast<std::size_t>(std::max(0, resp.attempts - 1));
    if (!b.admitted) {
      b.admitted = true;
      capacity_.on_admission(b.in_flight_at_send, b.entities.size(),
                             Admission{resp.priority, resp.p1_capacity, resp.p2_capacity});
    }
    bool finished = is_terminal(resp.status);
    tracker_.observe(b, now(), finished);
    if (!resp.run_id.empty() && b.run_id.empty()) {
      b.run_id = resp.run_id;
      summary_.provider_run_ids.push_back(resp.run_id);
      // A run that goes on at pipe0 (async, or a sync run past its limit) is journaled before
      // it is polled, so a restart checks it instead of paying for it again.
      if (!finished && ctx_.cache.submitted) {
        std::vector<Signal> signals;
        for (Signal s : kAllSignals) {
          if (b.mask & bit(s)) signals.push_back(s);
        }
        ctx_.cache.submitted(b.run_id, b.entities, signals);
        b.journaled = true;
      }
    }
    if (finished) return complete(id, resp);
    if (b.run_id.empty()) return fail_batch(id, data_loss("pipe0 answered an unfinished run without its id"), true);
    if (now() - b.sent > opts_.run_deadline) {
      return fail_batch(id, Status(StatusCode::kDeadlineExceeded, fmt::format("pipe0 run {} did not finish in time", b.run_id)), false);
    }
    tracker_.schedule_poll(id, now());
  }

  void complete(std::size_t id, const BatchResponse& resp) {
    Batch b = release(id);
    lookups_.conclude_answer(b, resp);
    if (b.journaled && ctx_.cache.settled) stored_runs_.push_back(b.run_id);  // forgotten once its results are stored
  }

  void on_failure(std::size_t id, const Status& st) {
    Batch& b = *tracker_.find(id);
    switch (judge_failure(st, b, now(), opts_.run_deadline)) {
      case Verdict::kPollAgain: return tracker_.schedule_poll(id, now());
      case Verdict::kResend: return resend(id, st);
      case Verdict::kFatal: lookups_.set_fatal(st); return fail_batch(id, st, false);
      case Verdict::kFinal: return fail_batch(id, st, false);
      case Verdict::kRetry: return fail_batch(id, st, true);
    }
  }

  // pipe0 provably did not take these records (429, 503 before processing, never sent): they
  // go again after a backoff — or the Retry-After pipe0 asked everyone to wait.
  void resend(std::size_t id, const Status& st) {
    Batch b = release(id);
    int attempt = 1;
    Group again = lookups_.take_back(b, st, attempt);
    milliseconds wait = backoff_delay(opts_.retry.backoff, attempt, next_unit(jitter_));
    if (st.code() == StatusCode::kResourceExhausted) {
      wait = st.retry_after().value_or(wait);
      pause_until_ = std::max(pause_until_, now() + wait);
    }
    if (!again.entities.empty()) ++summary_.retries;
    batcher_.park(now() + wait, std::move(again));
  }

  void fail_batch(std::size_t id, const Status& st, bool may_retry) {
    Batch b = release(id);
    lookups_.conclude_all(b.entities, b.mask, st, b.run_id, may_retry);
  }

  Batch release(std::size_t id) {
    Batch b = tracker_.take(id);
    capacity_.on_release();
    for (const std::string& entity : b.entities) lookups_.release(entity, b.mask);
    return b;
  }

  void emit_ready() { progress_.leads_done += delivery_.emit_ready(sink_, summary_); }

  // ---- cancellation and waiting ----

  // Cancellation is a state: every lookup still waiting anywhere — queued, parked for a retry,
  // in flight, being polled, or flown by another run — ends failed as cancelled, once.
  void cancel_all() {
    summary_.cancelled = true;
    intake_.stop();
    Status st(StatusCode::kCancelled, "the run was cancelled");
    lookups_.set_fatal(st);
    for (std::size_t id : tracker_.ids()) fail_batch(id, st, false);
    for (const Group& g : batcher_.drain()) lookups_.conclude_all(g.entities, g.mask, st, "", false);
    lookups_.fail_open(st);
  }

  void wait_for_work() {
    std::optional<Clock::SteadyTime> wake = tracker_.next_poll();
    auto earlier = [&](std::optional<Clock::SteadyTime> t) {
      if (t && (!wake || *t < *wake)) wake = t;
    };
    earlier(batcher_.next_unpark());
    earlier(lookups_.next_lease_poll());
    if (batcher_.queued() > 0 && pause_until_ > now()) earlier(pause_until_);
    milliseconds slice = kWaitSlice;
    if (wake) slice = std::clamp(std::chrono::duration_cast<milliseconds>(*wake - now()), milliseconds(0), kWaitSlice);
    if (outstanding_ > 0 || lookups_.standby() > 0) {
      std::unique_lock lock(mailbox_->mu);
      mailbox_->cv.wait_for(lock, slice, [&] {
        return !mailbox_->events.empty() || !mailbox_->landings.empty() || cancel_requested();
      });
      return;
    }
    if (wake) {
      if (slice > milliseconds(0)) ctx_.clock->sleep_for(slice);
      return;
    }
    if (batcher_.queued() > 0 || intake_.has_room()) return;
    // Nothing in flight, nothing scheduled, yet leads wait: never hang, fail what is left.
    lookups_.fail_open(Status(StatusCode::kInternal, "the run stalled with lookups outstanding"));
  }

  const RunContext& ctx_;
  const EngineOptions& opts_;
  const LeadSink& sink_;
  std::shared_ptr<Mailbox> mailbox_;

  RunSummary summary_;
  Progress progress_;
  Delivery delivery_;
  Batcher batcher_;
  CapacityController capacity_;
  BatchTracker tracker_;
  RunLookups lookups_;
  Intake intake_;

  std::vector<std::string> stored_runs_;  // journaled pipe0 runs whose answers wait to be stored
  std::size_t outstanding_ = 0;  // requests whose callback has not come
  bool answered_ = false;        // any pipe0 answer yet
  bool probing_ = false;         // the first run is out to learn the capacity
  Clock::SteadyTime pause_until_{};
  std::uint64_t jitter_ = 0x5eed;
};

}  // namespace

Result<RunSummary> run_enrichment(const RunContext& ctx, LeadSource& source, const LeadSink& sink,
                                  const BadRowSink& on_bad_row) {
  Run run(ctx, source, sink, on_bad_row);
  return run.execute();
}

}  // namespace leadenrich::internal
