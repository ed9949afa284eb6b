#include "internal/run.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "internal/batch_tracker.h"
#include "internal/batcher.h"
#include "internal/capacity.h"
#include "internal/lookup_table.h"
#include "internal/plan.h"
#include "leadenrich/pipe0.h"

namespace leadenrich::internal {
namespace {

using std::chrono::milliseconds;

// How long the loop waits at most before looking at the cancellation token again.
constexpr milliseconds kWaitSlice{100};

// A company or person this run sends to pipe0.
struct Entity {
  Json::Object inputs;
  Mask active = 0;  // signals queued, parked or in flight
  std::array<int, kSignalCount> failures{};  // answers "failed", per signal
  int resends = 0;  // batches pipe0 provably did not accept
  int open = 0;     // lookups not finished; at 0, with nothing active, it is forgotten
};

class Run {
 public:
  Run(const RunContext& ctx, LeadSource& source, const LeadSink& sink, const BadRowSink& on_bad_row)
      : ctx_(ctx), opts_(*ctx.options), source_(source), sink_(sink), on_bad_row_(on_bad_row),
        mailbox_(std::make_shared<Mailbox>()), delivery_(*ctx.config, *ctx.clock), batcher_(opts_),
        capacity_(opts_.max_records_in_flight), tracker_(opts_) {
    signals_ = opts_.signals.empty() ? ctx.config->enabled_signals : opts_.signals;
    for (Signal s : signals_) {
      const SignalSpec& spec = ctx.config->spec(s);
      auto& keys = spec.level == SignalLevel::kCompany ? company_inputs_ : person_inputs_;
      for (const std::string& in : spec.required_inputs) {
        if (std::find(keys.begin(), keys.end(), in) == keys.end()) keys.push_back(in);
      }
    }
  }

  Result<RunSummary> execute() {
    Clock::SteadyTime start = now();
    while (true) {
      if (cancel_requested()) cancel_all();
      read_leads();
      process_mail();
      batcher_.unpark_due(now());
      for (std::size_t id : tracker_.due_polls(now())) poll(id);
      submit_ready();
      emit_ready();
      if (opts_.progress) opts_.progress(progress_);
      if (source_done_ && delivery_.empty()) break;
      wait_for_work();
    }
    summary_.wall_time = std::chrono::duration_cast<milliseconds>(now() - start);
    summary_.companies = companies_.size();
    summary_.people = people_.size();
    if (!source_error_.ok()) return source_error_;
    return summary_;
  }

 private:
  const SignalSpec& spec(Signal s) const { return ctx_.config->spec(s); }
  Clock::SteadyTime now() const { return ctx_.clock->steady_now(); }
  bool cancel_requested() const { return opts_.cancel && opts_.cancel->cancelled() && !summary_.cancelled; }

  // ---- reading and planning ----

  void read_leads() {
    while (!source_done_ && delivery_.size() < std::max<std::size_t>(1, opts_.read_ahead)) {
      std::optional<SourceItem> item = source_.next();
      if (!item) {
        source_done_ = true;
        break;
      }
      ++progress_.leads_read;
      if (!item->lead.ok()) {
        if (item->fatal) {
          source_error_ = item->lead.status();
          source_done_ = true;
          break;
        }
        ++summary_.bad_rows;
        ++progress_.bad_rows;
        if (on_bad_row_) on_bad_row_(item->location, item->lead.status());
        continue;
      }
      admit(std::move(item->lead).value());
      emit_ready();  // leads answered by the cache or by earlier lookups leave at once
    }
    progress_.source_done = source_done_;
  }

  void admit(RawLead raw) {
    LeadPlan plan = plan_lead(raw, signals_, ctx_.config->signal_specs);
    EnrichedLead e;
    e.company_key = plan.company_key;
    e.person_key = plan.person_key;
    e.sandbox = opts_.sandbox;
    if (plan.company_key) companies_.insert(std::hash<std::string>{}(*plan.company_key));
    if (plan.person_key) people_.insert(std::hash<std::string>{}(*plan.person_key));
    if (!plan.company_key && !plan.person_key) ++summary_.leads_without_identity;
    PendingLead& lead = delivery_.add(std::move(e));
    for (Signal s : kAllSignals) {
      const std::string& entity = plan.entity[idx(s)];
      if (entity.empty()) {
        lead.lead.results[idx(s)] = plan.local[idx(s)];
        continue;
      }
      std::string key = lookup_key(entity, s);
      Lookup* lk = lookups_.find(key);
      if (lk == nullptr) {
        if (std::optional<Lookup> back = lookups_.restore(s, entity, key, ctx_.cache.get)) {
          delivery_.apply(lead, *back);
          continue;
        }
        Lookup fresh;
        fresh.signal = s;
        fresh.entity = entity;
        const auto& keys = spec(s).level == SignalLevel::kCompany ? company_inputs_ : person_inputs_;
        lk = &lookups_.insert(key, start_lookup(std::move(fresh), key, entity_inputs(raw, plan, keys, spec(s).level)));
      }
      if (lk->done) {
        delivery_.apply(lead, *lk);
        lookups_.settle(key, static_cast<bool>(ctx_.cache.get));
      } else {
        lk->waiters.push_back(lead.seq);
        ++lead.pending;
      }
    }
    lead.lead.lead = std::move(raw);
    enqueue_fresh();
  }

  // A lookup nobody in this run has: from the store, from another run, refused, or sent.
  Lookup start_lookup(Lookup lk, const std::string& key, Json::Object inputs) {
    auto done = [&](LookupOutcome o, bool from_cache) {
      lk.done = true;
      lk.outcome = std::move(o);
      lk.from_cache = lk.in_store = from_cache;
      if (from_cache) {
        ++summary_.cache_hits;
        ++progress_.cache_hits;
      }
      return std::move(lk);
    };
    if (ctx_.cache.get) {
      if (std::optional<LookupOutcome> hit = ctx_.cache.get(lk.signal, lk.entity)) return done(std::move(*hit), true);
    }
    if (!fatal_.ok()) return done(failed_outcome(lk.signal, fatal_), false);
    if (ctx_.flights != nullptr) {
      std::shared_ptr<Mailbox> mailbox = mailbox_;
      if (!ctx_.flights->claim(key, [mailbox](Landing l) { mailbox->post(std::move(l)); })) {
        lk.standby_inputs = std::move(inputs);  // another run flies it; kept should it give up
        ++standby_;
        return lk;
      }
      // The run that flew it may have landed between our read of the store and the claim.
      if (ctx_.cache.get) {
        if (std::optional<LookupOutcome> hit = ctx_.cache.get(lk.signal, lk.entity)) {
          ctx_.flights->land(key, *hit, "");
          return done(std::move(*hit), true);
        }
      }
    }
    double price = spec(lk.signal).credits_per_lookup;
    if (opts_.budget_credits && spent_ + reserved_ + price > *opts_.budget_credits + 1e-9) {
      if (ctx_.flights != nullptr) ctx_.flights->land(key, std::nullopt, "");  // another run may afford it
      LookupOutcome o;
      o.result.status = SignalStatus::kBudgetExhausted;
      o.result.source = spec(lk.signal).pipe_id;
      o.result.reason = Reason{"budget_exhausted", fmt::format("the run's budget of {} credits is spent", *opts_.budget_credits)};
      summary_.budget_exhausted = true;
      return done(std::move(o), false);
    }
    reserved_ += price;
    ++summary_.lookups;
    ++progress_.lookups_planned;
    lk.owned = true;
    auto [it, inserted] = entities_.try_emplace(lk.entity);
    if (inserted) it->second.inputs = std::move(inputs);
    ++it->second.open;
    if (!(it->second.active & bit(lk.signal))) {
      it->second.active |= bit(lk.signal);
      auto f = std::find_if(fresh_.begin(), fresh_.end(), [&](const auto& p) { return p.first == lk.entity; });
      if (f == fresh_.end()) f = fresh_.insert(fresh_.end(), {lk.entity, 0});
      f->second |= bit(lk.signal);
    }
    return lk;
  }

  // The signals a lead's lookups added to each entity go out as one record with those pipes.
  void enqueue_fresh() {
    for (const auto& [entity, mask] : fresh_) batcher_.enqueue(entity, mask);
    fresh_.clear();
  }

  // ---- sending ----

  void submit_ready() {
    if (summary_.cancelled) return;
    if (!fatal_.ok()) {
      for (const Group& g : batcher_.drain()) conclude(g, fatal_, "", false);
      return;
    }
    if (now() < pause_until_) return;
    while (!probing_) {
      std::size_t in_flight = tracker_.records_in_flight();
      std::size_t limit = capacity_.limit();
      if (in_flight >= limit || (capacity_.hold() && in_flight > 0)) return;
      bool sync = batcher_.next_is_sync();
      // Capacity is unknown and there is more work than the first window: one async run's
      // admission answer (back in milliseconds, unlike a sync run's) tells it before the rest go.
      bool probe = !answered_ && opts_.mode != RunMode::kSync && batcher_.waiting() + in_flight > limit &&
                   (opts_.max_records_in_flight == 0 || limit < opts_.max_records_in_flight);
      std::optional<Group> g = batcher_.take(limit - in_flight, sync && !probe);
      if (!g) return;
      send(std::move(*g), sync && !probe);
      probing_ = probe;
    }
  }

  void send(Group g, bool sync) {
    BatchRequest req;
    for (Signal s : kAllSignals) {
      if (g.mask & bit(s)) req.pipe_ids.push_back(spec(s).pipe_id);
    }
    for (std::size_t k = 0; k < g.entities.size(); ++k) {
      req.records.push_back(BatchRecord{std::to_string(k + 1), entities_.at(g.entities[k]).inputs});
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
    for (Landing& l : landings) on_landing(l);
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
    if (resp.status != "completed") {
      std::string why = fmt::format("pipe0 run {} {}", resp.run_id, resp.status);
      if (!resp.errors.empty()) why += ": " + resp.errors.front();
      bool credits = std::any_of(resp.errors.begin(), resp.errors.end(), [](const std::string& e) {
        return e.find("Credit") != std::string::npos || e.find("credit") != std::string::npos;
      });
      Status st(credits ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable, why);
      if (credits) fatal_ = st;  // pipe0 says stop: no more spend this run
      conclude(Group{b.mask, b.entities}, st, resp.run_id, !credits);
    } else {
      std::unordered_map<std::string, const BatchRecordResult*> by_id;
      for (const BatchRecordResult& r : resp.records) by_id[r.id] = &r;
      Timestamp t = ctx_.clock->now();
      Status missing(StatusCode::kDataLoss, "pipe0 returned no record for this lookup");
      for (std::size_t k = 0; k < b.entities.size(); ++k) {
        auto rit = by_id.find(std::to_string(k + 1));
        conclude_entity(b.entities[k], b.mask, resp.run_id, true, [&](Signal s) {
          return rit == by_id.end() ? failed_outcome(s, missing) : merge_signal(spec(s), rit->second->fields, t);
        });
      }
    }
    if (b.journaled && ctx_.cache.settled) ctx_.cache.settled(b.run_id);  // its results are merged (and cached)
  }

  void on_failure(std::size_t id, const Status& st) {
    Batch& b = *tracker_.find(id);
    switch (judge_failure(st, b, now(), opts_.run_deadline)) {
      case Verdict::kPollAgain: return tracker_.schedule_poll(id, now());
      case Verdict::kResend: return resend(id, st);
      case Verdict::kFatal: fatal_ = st; return fail_batch(id, st, false);
      case Verdict::kFinal: return fail_batch(id, st, false);
      case Verdict::kRetry: return fail_batch(id, st, true);
    }
  }

  // pipe0 provably did not take these records (429, 503 before processing, never sent): they
  // go again after a backoff — or the Retry-After pipe0 asked everyone to wait.
  void resend(std::size_t id, const Status& st) {
    Batch b = release(id);
    Group again{b.mask, {}};
    int attempt = 1;
    for (const std::string& entity : b.entities) {
      Entity& e = entities_.at(entity);
      if (++e.resends >= opts_.retry.limits.max_attempts) {
        conclude(Group{b.mask, {entity}}, st, "", false);
      } else {
        e.active |= b.mask;
        again.entities.push_back(entity);
        attempt = std::max(attempt, e.resends);
      }
    }
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
    conclude(Group{b.mask, std::move(b.entities)}, st, b.run_id, may_retry);
  }

  Batch release(std::size_t id) {
    Batch b = tracker_.take(id);
    capacity_.on_release();
    for (const std::string& entity : b.entities) entities_.at(entity).active &= static_cast<Mask>(~b.mask);
    return b;
  }

  void conclude(const Group& g, const Status& st, const std::string& run_id, bool may_retry) {
    for (const std::string& entity : g.entities) {
      conclude_entity(entity, g.mask, run_id, may_retry, [&](Signal s) { return failed_outcome(s, st); });
    }
  }

  // Each signal of `mask` gets its outcome, except a transient failure with attempts left: that
  // one waits out a backoff and goes again.
  template <typename OutcomeOf>
  void conclude_entity(const std::string& entity, Mask mask, const std::string& run_id, bool may_retry, OutcomeOf outcome_of) {
    Mask again = 0;
    int attempt = 1;
    for (Signal s : kAllSignals) {
      if (!(mask & bit(s))) continue;
      LookupOutcome o = outcome_of(s);
      auto eit = entities_.find(entity);
      bool retry = may_retry && opts_.retry_failed_at_end && fatal_.ok() && eit != entities_.end() &&
                   o.result.status == SignalStatus::kFailed && is_transient(o.result.reason) &&
                   ++eit->second.failures[idx(s)] < opts_.retry.limits.max_attempts;
      if (!retry) {
        finish(entity, s, std::move(o), run_id);
        continue;
      }
      again |= bit(s);
      attempt = std::max(attempt, eit->second.failures[idx(s)]);
    }
    if (again == 0) return;
    ++summary_.retries;
    entities_.at(entity).active |= again;
    batcher_.park(now() + backoff_delay(opts_.retry.backoff, attempt, next_unit(jitter_)), Group{again, {entity}});
  }

  void on_landing(Landing& l) {
    Lookup* lk = lookups_.find(l.key);
    if (lk == nullptr || lk->done || !lk->standby_inputs) return;
    if (l.outcome) {
      l.outcome->billed = false;  // billed to the run that flew it
      return finish(lk->entity, lk->signal, std::move(*l.outcome), l.run_id);
    }
    // The run that flew it gave up: claim it again (this run may now fly it).
    Json::Object inputs = std::move(*lk->standby_inputs);
    lk->standby_inputs.reset();
    --standby_;
    Lookup fresh;
    fresh.signal = lk->signal;
    fresh.entity = lk->entity;
    fresh.waiters = std::move(lk->waiters);
    Lookup& now_lk = lookups_.insert(l.key, start_lookup(std::move(fresh), l.key, std::move(inputs)));
    enqueue_fresh();
    if (now_lk.done) fan_out(l.key, now_lk);
  }

  void finish(const std::string& entity, Signal s, LookupOutcome outcome, const std::string& run_id) {
    std::string key = lookup_key(entity, s);
    Lookup* lk = lookups_.find(key);
    if (lk == nullptr || lk->done) return;
    if (lk->standby_inputs) {
      lk->standby_inputs.reset();
      --standby_;
    }
    if (lk->owned) {
      double price = spec(s).credits_per_lookup;
      reserved_ = std::max(0.0, reserved_ - price);
      if (outcome.billed) {
        spent_ += price;
        ++summary_.billed_lookups;
        summary_.estimated_credits += price;
      }
    }
    lk->done = true;
    lk->outcome = std::move(outcome);
    lk->run_id = run_id;
    ++progress_.lookups_done;
    SignalStatus st = lk->outcome.result.status;
    bool answer = st == SignalStatus::kFound || st == SignalStatus::kNoResult;
    if (lk->owned && answer && ctx_.cache.put) lk->in_store = ctx_.cache.put(s, entity, lk->outcome);
    if (lk->owned && ctx_.flights != nullptr) {
      bool gave_up = st == SignalStatus::kFailed && lk->outcome.result.reason &&
                     lk->outcome.result.reason->code == to_string(StatusCode::kCancelled);
      ctx_.flights->land(key, gave_up ? std::nullopt : std::optional<LookupOutcome>(lk->outcome), run_id);
    }
    auto eit = entities_.find(entity);
    if (lk->owned && eit != entities_.end() && --eit->second.open <= 0 && eit->second.active == 0) entities_.erase(eit);
    fan_out(key, *lk);
  }

  void fan_out(const std::string& key, Lookup& lk) {
    for (std::size_t seq : lk.waiters) delivery_.answer(seq, lk);
    lk.waiters.clear();
    lk.waiters.shrink_to_fit();
    lookups_.settle(key, static_cast<bool>(ctx_.cache.get));
  }

  LookupOutcome failed_outcome(Signal s, const Status& st) const {
    LookupOutcome o;
    o.result.status = SignalStatus::kFailed;
    o.result.source = spec(s).pipe_id;
    std::string message = st.message();
    if (st.http_status() != 0) message += fmt::format(" (HTTP {})", st.http_status());
    o.result.reason = Reason{std::string(to_string(st.code())), std::move(message)};
    return o;
  }

  void emit_ready() { progress_.leads_done += delivery_.emit_ready(sink_, summary_); }

  // ---- cancellation and waiting ----

  // Cancellation is a state: every lookup still waiting anywhere — queued, parked for a retry,
  // in flight, being polled, or flown by another run — ends failed as cancelled, once.
  void cancel_all() {
    summary_.cancelled = true;
    source_done_ = true;
    fatal_ = Status(StatusCode::kCancelled, "the run was cancelled");
    for (std::size_t id : tracker_.ids()) fail_batch(id, fatal_, false);
    for (const Group& g : batcher_.drain()) conclude(g, fatal_, "", false);
    for (const auto& [entity, s] : lookups_.open()) finish(entity, s, failed_outcome(s, fatal_), "");
  }

  void wait_for_work() {
    std::optional<Clock::SteadyTime> wake = tracker_.next_poll();
    auto earlier = [&](std::optional<Clock::SteadyTime> t) {
      if (t && (!wake || *t < *wake)) wake = t;
    };
    earlier(batcher_.next_unpark());
    if (batcher_.queued() > 0 && pause_until_ > now()) earlier(pause_until_);
    milliseconds slice = kWaitSlice;
    if (wake) slice = std::clamp(std::chrono::duration_cast<milliseconds>(*wake - now()), milliseconds(0), kWaitSlice);
    if (outstanding_ > 0 || standby_ > 0) {
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
    if (batcher_.queued() > 0 || (!source_done_ && delivery_.size() < opts_.read_ahead)) return;
    // Nothing in flight, nothing scheduled, yet leads wait: never hang, fail what is left.
    Status st(StatusCode::kInternal, "the run stalled with lookups outstanding");
    for (const auto& [entity, s] : lookups_.open()) finish(entity, s, failed_outcome(s, st), "");
  }

  const RunContext& ctx_;
  const EngineOptions& opts_;
  LeadSource& source_;
  const LeadSink& sink_;
  const BadRowSink& on_bad_row_;
  std::shared_ptr<Mailbox> mailbox_;

  std::vector<Signal> signals_;
  std::vector<std::string> company_inputs_;
  std::vector<std::string> person_inputs_;

  Delivery delivery_;
  LookupTable lookups_;
  Batcher batcher_;
  CapacityController capacity_;
  BatchTracker tracker_;
  std::unordered_map<std::string, Entity> entities_;
  std::vector<std::pair<std::string, Mask>> fresh_;  // entity -> signals to enqueue
  std::unordered_set<std::uint64_t> companies_;  // distinct keys, by a 64-bit hash
  std::unordered_set<std::uint64_t> people_;

  std::size_t outstanding_ = 0;  // requests whose callback has not come
  std::size_t standby_ = 0;      // lookups another run flies for this one
  bool answered_ = false;        // any pipe0 answer yet
  bool probing_ = false;         // the first run is out to learn the capacity
  Clock::SteadyTime pause_until_{};
  std::uint64_t jitter_ = 0x5eed;
  double spent_ = 0;
  double reserved_ = 0;
  bool source_done_ = false;
  Status source_error_;
  Status fatal_;

  RunSummary summary_;
  Progress progress_;
};

}  // namespace

Result<RunSummary> run_enrichment(const RunContext& ctx, LeadSource& source, const LeadSink& sink,
                                  const BadRowSink& on_bad_row) {
  Run run(ctx, source, sink, on_bad_row);
  return run.execute();
}

}  // namespace leadenrich::internal
