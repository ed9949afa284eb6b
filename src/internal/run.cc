#include "internal/run.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "internal/plan.h"
#include "leadenrich/pipe0.h"

namespace leadenrich::internal {
namespace {

using Mask = std::uint8_t;
using std::chrono::milliseconds;

constexpr Mask bit(Signal s) { return static_cast<Mask>(1u << static_cast<unsigned>(s)); }
constexpr std::size_t idx(Signal s) { return static_cast<std::size_t>(s); }

std::string lookup_key(const std::string& entity, Signal s) {
  std::string key = entity;
  key.push_back('\x1f');
  key.append(to_string(s));
  return key;
}

// A (signal, entity) lookup shared by every lead that needs it.
struct Lookup {
  Signal signal = Signal::kCompanyOverview;
  std::string entity;
  bool done = false;
  LookupOutcome outcome;
  bool from_cache = false;
  std::vector<std::size_t> waiters;  // sequence numbers of leads waiting for it
  bool attributed = false;           // its billing has been put on a lead
  std::string run_id;
  bool in_store = false;  // from the store, or written to it
};

// A lookup that is over and whose answer the store holds: all the run keeps of it (see settle()).
struct Settled {
  SignalStatus status = SignalStatus::kFound;
  bool from_cache = false;
  std::uint32_t run = 0;  // 1 + index into the run's pipe0 run ids; 0 for none
};

// A company or person to send to pipe0, with the signals it still needs.
struct Entity {
  SignalLevel level = SignalLevel::kCompany;
  Json::Object inputs;
  Mask mask = 0;
  int submissions = 0;
  bool second_chance_used = false;
  int open = 0;  // its lookups sent to pipe0 and not finished; at 0 it is forgotten
};

struct PendingLead {
  std::size_t seq = 0;
  EnrichedLead lead;
  int pending = 0;  // lookups not yet done
};

struct Batch {
  Mask mask = 0;
  std::vector<std::string> entities;  // record id = index
  bool sync = true;
  std::string run_id;
  Clock::SteadyTime started;
  milliseconds poll_interval{0};
};

struct Event {
  std::size_t batch = 0;
  Result<BatchResponse> response = Status(StatusCode::kUnknown, "no response");
};

// Where callbacks from transport threads leave their results. Shared, so a late callback after
// the run ended (for example after cancellation) writes into a mailbox nobody reads.
struct Mailbox {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Event> events;
};

std::vector<ProviderField> fields_of(const BatchRecordResult& r) { return r.fields; }

class Run {
 public:
  Run(const RunContext& ctx, LeadSource& source, const LeadSink& sink, const BadRowSink& on_bad_row)
      : ctx_(ctx), opts_(*ctx.options), source_(source), sink_(sink), on_bad_row_(on_bad_row),
        mailbox_(std::make_shared<Mailbox>()) {
    signals_ = opts_.signals.empty() ? ctx.config->enabled_signals : opts_.signals;
    for (Signal s : kAllSignals) {
      if (std::find(signals_.begin(), signals_.end(), s) == signals_.end()) continue;
      const SignalSpec& spec = ctx.config->spec(s);
      auto& keys = spec.level == SignalLevel::kCompany ? company_inputs_ : person_inputs_;
      for (const std::string& in : spec.required_inputs) {
        if (std::find(keys.begin(), keys.end(), in) == keys.end()) keys.push_back(in);
      }
    }
  }

  Result<RunSummary> execute() {
    Clock::SteadyTime start = ctx_.clock->steady_now();
    while (true) {
      if (opts_.cancel && opts_.cancel->cancelled() && !summary_.cancelled) cancel_all();
      read_leads();
      process_events();
      fire_timers();
      submit_ready();
      emit_ready();
      report_progress();
      if (source_done_ && leads_.empty()) break;
      wait_for_work();
    }
    summary_.wall_time = std::chrono::duration_cast<milliseconds>(ctx_.clock->steady_now() - start);
    summary_.companies = companies_.size();
    summary_.people = people_.size();
    if (!source_error_.ok()) return source_error_;
    return summary_;
  }

 private:
  const SignalSpec& spec(Signal s) const { return ctx_.config->spec(s); }
  Clock::SteadyTime now() const { return ctx_.clock->steady_now(); }
  PendingLead& lead_at(std::size_t seq) { return leads_[seq - leads_.front().seq]; }

  // ---- reading and planning ----

  void read_leads() {
    while (!source_done_ && leads_.size() < std::max<std::size_t>(1, opts_.read_ahead)) {
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
    PendingLead p;
    p.seq = next_seq_++;
    LeadPlan plan = plan_lead(raw, signals_, ctx_.config->signal_specs);
    p.lead.lead = std::move(raw);
    p.lead.company_key = plan.company_key;
    p.lead.person_key = plan.person_key;
    p.lead.sandbox = opts_.sandbox;
    if (plan.company_key) companies_.insert(key_hash(*plan.company_key));
    if (plan.person_key) people_.insert(key_hash(*plan.person_key));
    if (!plan.company_key && !plan.person_key) ++summary_.leads_without_identity;
    leads_.push_back(std::move(p));
    PendingLead& lead = leads_.back();

    std::vector<std::string> touched;
    for (Signal s : kAllSignals) {
      std::size_t i = idx(s);
      if (plan.entity[i].empty()) {
        lead.lead.results[i] = plan.local[i];
        continue;
      }
      const std::string& entity = plan.entity[i];
      std::string key = lookup_key(entity, s);
      auto it = lookups_.find(key);
      if (it == lookups_.end()) {
        if (std::optional<Lookup> back = restore(s, entity, key)) {
          apply(lead, *back);
          continue;
        }
        it = lookups_.emplace(key, new_lookup(s, entity, lead.lead.lead, plan, touched)).first;
      }
      Lookup& lk = it->second;
      if (lk.done) {
        apply(lead, lk);
        settle(it);
      } else {
        lk.waiters.push_back(lead.seq);
        ++lead.pending;
      }
    }
    for (const std::string& entity : touched) enqueue(entity, /*late=*/false);
  }

  Lookup new_lookup(Signal s, const std::string& entity, const RawLead& raw, const LeadPlan& plan,
                    std::vector<std::string>& touched) {
    Lookup lk;
    lk.signal = s;
    lk.entity = entity;
    if (ctx_.cache.get) {
      if (std::optional<LookupOutcome> hit = ctx_.cache.get(s, entity)) {
        lk.done = true;
        lk.outcome = std::move(*hit);
        lk.from_cache = true;
        lk.in_store = true;
        ++summary_.cache_hits;
        ++progress_.cache_hits;
        return lk;
      }
    }
    if (!fatal_.ok()) {
      lk.done = true;
      lk.outcome = failed_outcome(s, fatal_);
      return lk;
    }
    double price = spec(s).credits_per_lookup;
    if (opts_.budget_credits && spent_ + reserved_ + price > *opts_.budget_credits + 1e-9) {
      lk.done = true;
      lk.outcome.result.status = SignalStatus::kBudgetExhausted;
      lk.outcome.result.source = spec(s).pipe_id;
      lk.outcome.result.reason =
          Reason{"budget_exhausted", fmt::format("the run's budget of {} credits is spent", *opts_.budget_credits)};
      summary_.budget_exhausted = true;
      return lk;
    }
    reserved_ += price;
    ++summary_.lookups;
    ++progress_.lookups_planned;
    auto [eit, inserted] = entities_.try_emplace(entity);
    Entity& e = eit->second;
    if (inserted) {
      e.level = spec(s).level;
      e.inputs = entity_inputs(raw, plan, e.level == SignalLevel::kCompany ? company_inputs_ : person_inputs_, e.level);
    }
    if (e.mask == 0) touched.push_back(entity);
    e.mask |= bit(s);
    ++e.open;
    return lk;
  }

  void enqueue(const std::string& entity, bool late) {
    Entity& e = entities_.at(entity);
    if (e.mask == 0) return;
    (late ? late_ : groups_)[e.mask].push_back(entity);
    ++records_queued_;
  }

  // ---- submitting ----

  bool choose_sync() const {
    switch (opts_.mode) {
      case RunMode::kSync: return true;
      case RunMode::kAsync: return false;
      case RunMode::kAuto: return records_planned_ <= opts_.auto_async_threshold;
    }
    return true;
  }

  void submit_ready() {
    if (summary_.cancelled) return;
    bool main_empty = std::all_of(groups_.begin(), groups_.end(), [](const auto& g) { return g.second.empty(); });
    // Late retries go out only when the main work has left, so they come "at the end".
    bool late_allowed = main_empty && (source_done_ || leads_.size() >= opts_.read_ahead);
    submit_from(groups_);
    if (late_allowed) submit_from(late_);
  }

  void submit_from(std::map<Mask, std::deque<std::string>>& queues) {
    for (auto& [mask, queue] : queues) {
      while (!queue.empty()) {
        if (!fatal_.ok()) {
          fail_queue(queue, fatal_);
          break;
        }
        if (now() < pause_until_) return;
        if (capacity_hold_ && records_in_flight_ > 0) return;
        bool sync = choose_sync();
        std::size_t cap = std::max<std::size_t>(1, sync ? opts_.sync_batch_size : opts_.async_batch_size);
        std::size_t n = std::min(cap, queue.size());
        std::size_t limit = std::max<std::size_t>(1, opts_.max_records_in_flight);
        if (records_in_flight_ + n > limit) {
          if (records_in_flight_ >= limit) return;
          n = limit - records_in_flight_;
        }
        Batch b;
        b.mask = mask;
        b.sync = sync;
        b.started = now();
        b.poll_interval = opts_.poll_initial;
        for (std::size_t k = 0; k < n; ++k) {
          b.entities.push_back(std::move(queue.front()));
          queue.pop_front();
        }
        send(std::move(b));
      }
    }
  }

  void send(Batch b) {
    BatchRequest req;
    for (Signal s : kAllSignals) {
      if (b.mask & bit(s)) req.pipe_ids.push_back(spec(s).pipe_id);
    }
    for (std::size_t k = 0; k < b.entities.size(); ++k) {
      Entity& e = entities_.at(b.entities[k]);
      ++e.submissions;
      req.records.push_back(BatchRecord{std::to_string(k + 1), e.inputs});
    }
    records_queued_ -= b.entities.size();
    records_planned_ += b.entities.size();
    records_in_flight_ += b.entities.size();
    progress_.records_in_flight = records_in_flight_;
    summary_.records_sent += b.entities.size();
    ++summary_.requests;
    ++progress_.requests;
    ++outstanding_;
    std::size_t id = next_batch_++;
    bool sync = b.sync;
    batches_.emplace(id, std::move(b));
    BatchCallback done = callback(id);
    if (sync) {
      ctx_.pipe0->run_sync(std::move(req), std::move(done));
    } else {
      ctx_.pipe0->create_run(std::move(req), std::move(done));
    }
  }

  BatchCallback callback(std::size_t id) {
    std::shared_ptr<Mailbox> mailbox = mailbox_;
    return [mailbox, id](Result<BatchResponse> r) {
      std::lock_guard lock(mailbox->mu);
      mailbox->events.push_back(Event{id, std::move(r)});
      mailbox->cv.notify_one();
    };
  }

  void poll(std::size_t id) {
    auto it = batches_.find(id);
    if (it == batches_.end()) return;
    ++summary_.requests;
    ++progress_.requests;
    ++outstanding_;
    ctx_.pipe0->check(it->second.run_id, callback(id));
  }

  // ---- results ----

  void process_events() {
    std::deque<Event> events;
    {
      std::lock_guard lock(mailbox_->mu);
      events.swap(mailbox_->events);
    }
    for (Event& ev : events) {
      --outstanding_;
      auto it = batches_.find(ev.batch);
      if (it == batches_.end()) continue;  // abandoned (cancelled) batch
      Batch& b = it->second;
      if (!ev.response.ok()) {
        on_request_failed(ev.batch, ev.response.status());
        continue;
      }
      BatchResponse& resp = ev.response.value();
      summary_.retries += static_cast<std::size_t>(std::max(0, resp.attempts - 1));
      note_capacity(resp);
      if (!resp.run_id.empty() && b.run_id.empty()) {
        b.run_id = resp.run_id;
        summary_.provider_run_ids.push_back(resp.run_id);
        if (!b.sync && ctx_.cache.submitted) {
          std::vector<Signal> signals;
          for (Signal s : kAllSignals) {
            if (b.mask & bit(s)) signals.push_back(s);
          }
          ctx_.cache.submitted(b.run_id, b.entities, signals);
        }
      }
      bool terminal = resp.status == "completed" || resp.status == "failed" || resp.status == "canceled" ||
                      resp.status == "cancelled";
      if (b.sync || terminal) {
        complete(ev.batch, resp);
        continue;
      }
      if (now() - b.started > opts_.run_deadline) {
        fail_batch(ev.batch, Status(StatusCode::kDeadlineExceeded,
                                    fmt::format("pipe0 run {} did not finish in time", b.run_id)), false);
        continue;
      }
      std::size_t id = ev.batch;
      timers_.emplace(now() + b.poll_interval, [this, id] { poll(id); });
      b.poll_interval = std::min(opts_.poll_max, milliseconds(b.poll_interval.count() * 3 / 2));
    }
  }

  void note_capacity(const BatchResponse& resp) {
    // pipe0's advice: when P1 capacity reaches 0 slow down; at P2 0 stop and let runs finish.
    bool p1_out = resp.p1_capacity && *resp.p1_capacity <= 0;
    bool p2_out = resp.p2_capacity && *resp.p2_capacity <= 0;
    if (p1_out || p2_out) capacity_hold_ = true;
  }

  void complete(std::size_t id, const BatchResponse& resp) {
    Batch b = std::move(batches_.at(id));
    batches_.erase(id);
    release(b);
    struct Settle {  // forget the journaled submission once its results are merged (and cached)
      const CacheHooks& hooks;
      const Batch& batch;
      ~Settle() {
        if (!batch.sync && !batch.run_id.empty() && hooks.settled) hooks.settled(batch.run_id);
      }
    } settle{ctx_.cache, b};
    if (resp.status == "failed" || resp.status == "canceled" || resp.status == "cancelled") {
      std::string why = resp.errors.empty() ? fmt::format("pipe0 run {} {}", resp.run_id, resp.status)
                                            : fmt::format("pipe0 run {} {}: {}", resp.run_id, resp.status, resp.errors.front());
      bool credits = std::any_of(resp.errors.begin(), resp.errors.end(), [](const std::string& e) {
        return e.find("Credit") != std::string::npos || e.find("credit") != std::string::npos;
      });
      Status st(credits ? StatusCode::kFailedPrecondition : StatusCode::kUnavailable, why);
      if (credits) fatal_ = st;  // pipe0 says stop: no more spend this run
      fail_entities(b, st, /*allow_retry=*/!credits, resp.run_id);
      return;
    }
    std::unordered_map<std::string, const BatchRecordResult*> by_id;
    for (const BatchRecordResult& r : resp.records) by_id[r.id] = &r;
    Timestamp t = ctx_.clock->now();
    for (std::size_t k = 0; k < b.entities.size(); ++k) {
      const std::string& entity = b.entities[k];
      auto rit = by_id.find(std::to_string(k + 1));
      std::vector<ProviderField> fields;
      if (rit != by_id.end()) fields = fields_of(*rit->second);
      Mask retry_mask = 0;
      for (Signal s : kAllSignals) {
        if (!(b.mask & bit(s))) continue;
        LookupOutcome outcome;
        if (rit == by_id.end()) {
          outcome = failed_outcome(s, Status(StatusCode::kDataLoss, "pipe0 returned no record for this lookup"));
        } else {
          outcome = merge_signal(spec(s), fields, t);
        }
        if (outcome.result.status == SignalStatus::kFailed && may_retry_later(entity)) {
          retry_mask |= bit(s);
          continue;
        }
        finish(entity, s, std::move(outcome), resp.run_id);
      }
      if (retry_mask != 0) retry_later(entity, retry_mask);
    }
  }

  void on_request_failed(std::size_t id, const Status& st) {
    Batch& b = batches_.at(id);
    // Provably not accepted (429, 503 before processing, a connection never made): the same
    // records may be sent again at once, after a backoff, up to the attempt limit.
    bool not_accepted = st.code() == StatusCode::kResourceExhausted || st.http_status() == 503 ||
                        st.error_type() == kPipe0NotSent;
    if (not_accepted && b.run_id.empty()) {
      Batch moved = std::move(b);
      batches_.erase(id);
      release(moved);
      milliseconds wait = backoff(moved);
      if (st.code() == StatusCode::kResourceExhausted) {
        wait = st.retry_after().value_or(wait);
        pause_until_ = std::max(pause_until_, now() + wait);  // the provider asked everyone to wait
      }
      std::vector<std::string> again;
      for (const std::string& entity : moved.entities) {
        if (entities_.at(entity).submissions >= opts_.retry.limits.max_attempts) {
          fail_entity(entity, moved.mask, st, true, "");
        } else {
          again.push_back(entity);
        }
      }
      if (again.empty()) return;
      ++summary_.retries;
      Mask mask = moved.mask;
      records_queued_ += again.size();
      timers_.emplace(now() + wait, [this, mask, again] {
        for (auto it = again.rbegin(); it != again.rend(); ++it) {
          Entity& e = entities_.at(*it);
          e.mask = mask;
          groups_[mask].push_front(*it);
        }
      });
      return;
    }
    if (!b.sync && !b.run_id.empty()) {
      // A check failed: the run was accepted, so keep asking (never re-submit) until the deadline.
      bool final = st.code() == StatusCode::kNotFound || st.code() == StatusCode::kUnauthenticated ||
                   st.code() == StatusCode::kPermissionDenied || now() - b.started > opts_.run_deadline;
      if (!final) {
        std::size_t bid = id;
        timers_.emplace(now() + b.poll_interval, [this, bid] { poll(bid); });
        b.poll_interval = std::min(opts_.poll_max, milliseconds(b.poll_interval.count() * 3 / 2));
        return;
      }
    }
    bool final = st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kUnauthenticated ||
                 st.code() == StatusCode::kPermissionDenied || st.code() == StatusCode::kFailedPrecondition ||
                 st.code() == StatusCode::kNotFound;
    if (st.code() == StatusCode::kUnauthenticated || st.code() == StatusCode::kPermissionDenied ||
        st.code() == StatusCode::kFailedPrecondition) {
      fatal_ = st;  // every further request would fail the same way
    }
    fail_batch(id, st, !final);
  }

  void fail_batch(std::size_t id, const Status& st, bool allow_retry) {
    Batch b = std::move(batches_.at(id));
    batches_.erase(id);
    release(b);
    fail_entities(b, st, allow_retry, b.run_id);
  }

  void fail_entities(const Batch& b, const Status& st, bool allow_retry, const std::string& run_id) {
    for (const std::string& entity : b.entities) fail_entity(entity, b.mask, st, allow_retry, run_id);
  }

  void fail_entity(const std::string& entity, Mask mask, const Status& st, bool allow_retry, const std::string& run_id) {
    if (allow_retry && may_retry_later(entity)) {
      retry_later(entity, mask);
      return;
    }
    for (Signal s : kAllSignals) {
      if (mask & bit(s)) finish(entity, s, failed_outcome(s, st), run_id);
    }
  }

  void fail_queue(std::deque<std::string>& queue, const Status& st) {
    while (!queue.empty()) {
      std::string entity = std::move(queue.front());
      queue.pop_front();
      --records_queued_;
      Mask mask = entities_.at(entity).mask;
      entities_.at(entity).mask = 0;
      for (Signal s : kAllSignals) {
        if (mask & bit(s)) finish(entity, s, failed_outcome(s, st), "");
      }
    }
  }

  bool may_retry_later(const std::string& entity) const {
    return opts_.retry_failed_at_end && !summary_.cancelled && fatal_.ok() && !entities_.at(entity).second_chance_used;
  }

  void retry_later(const std::string& entity, Mask mask) {
    Entity& e = entities_.at(entity);
    e.second_chance_used = true;
    e.mask = mask;
    ++summary_.retries;
    enqueue(entity, /*late=*/true);
  }

  // Truncated exponential backoff with jitter for re-sending a batch.
  milliseconds backoff(const Batch& b) {
    const BackoffPolicy& p = opts_.retry.backoff;
    int attempt = 1;
    for (const std::string& entity : b.entities) attempt = std::max(attempt, entities_.at(entity).submissions);
    double delay = static_cast<double>(p.initial.count());
    for (int i = 1; i < attempt; ++i) delay = std::min(delay * p.multiplier, static_cast<double>(p.maximum.count()));
    jitter_state_ = mix(jitter_state_ + 0x9e3779b97f4a7c15ULL);
    double unit = static_cast<double>(jitter_state_ >> 11) / static_cast<double>(1ULL << 53);
    return milliseconds(static_cast<long long>(delay * (1.0 - std::clamp(p.jitter, 0.0, 1.0) * unit)));
  }

  static std::uint64_t mix(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
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

  void release(const Batch& b) {
    records_in_flight_ -= std::min(records_in_flight_, b.entities.size());
    progress_.records_in_flight = records_in_flight_;
    capacity_hold_ = false;  // a finished run frees capacity; the next response tells us more
    for (const std::string& entity : b.entities) entities_.at(entity).mask = 0;
  }

  void finish(const std::string& entity, Signal s, LookupOutcome outcome, const std::string& run_id) {
    auto it = lookups_.find(lookup_key(entity, s));
    if (it == lookups_.end() || it->second.done) return;
    Lookup& lk = it->second;
    double price = spec(s).credits_per_lookup;
    reserved_ = std::max(0.0, reserved_ - price);
    if (outcome.billed) {
      spent_ += price;
      ++summary_.billed_lookups;
      summary_.estimated_credits += price;
    }
    lk.done = true;
    lk.outcome = std::move(outcome);
    lk.run_id = run_id;
    ++progress_.lookups_done;
    SignalStatus st = lk.outcome.result.status;
    if (ctx_.cache.put && (st == SignalStatus::kFound || st == SignalStatus::kNoResult)) {
      lk.in_store = ctx_.cache.put(s, entity, lk.outcome);
    }
    for (std::size_t seq : lk.waiters) {
      PendingLead& p = lead_at(seq);
      apply(p, lk);
      --p.pending;
    }
    lk.waiters.clear();
    lk.waiters.shrink_to_fit();
    auto eit = entities_.find(entity);
    if (eit != entities_.end() && --eit->second.open <= 0 && eit->second.mask == 0) entities_.erase(eit);
    settle(it);
  }

  // Memory stays flat over a huge file only if a finished lookup does not keep its value (a
  // person's posts, a company's overview) for the rest of the run. With a store the answer is
  // already on disk, so the run keeps a few bytes of it and reads it back when another lead of
  // the same entity comes (restore()); without a store it stays, so nothing is paid for twice.
  void settle(std::unordered_map<std::string, Lookup>::iterator it) {
    Lookup& lk = it->second;
    if (!lk.in_store || !ctx_.cache.get || !lk.waiters.empty()) return;
    settled_[key_hash(it->first)] = Settled{lk.outcome.result.status, lk.from_cache, run_index(lk.run_id)};
    lookups_.erase(it);
  }

  std::optional<Lookup> restore(Signal s, const std::string& entity, const std::string& key) {
    if (settled_.empty()) return std::nullopt;
    auto sit = settled_.find(key_hash(key));
    if (sit == settled_.end()) return std::nullopt;
    Settled st = sit->second;
    std::optional<LookupOutcome> hit = ctx_.cache.get(s, entity);
    if (!hit || hit->result.status != st.status) {
      settled_.erase(sit);  // the store lost it (expired under a tiny --max-age, or unreadable): look it up again
      return std::nullopt;
    }
    Lookup lk;
    lk.signal = s;
    lk.entity = entity;
    lk.done = true;
    lk.outcome = std::move(*hit);
    lk.from_cache = st.from_cache;
    lk.attributed = true;  // its billing went to the first lead that had it
    lk.in_store = true;
    if (st.run > 0) lk.run_id = run_ids_[st.run - 1];
    return lk;
  }

  static std::uint64_t key_hash(std::string_view key) { return std::hash<std::string_view>{}(key); }

  std::uint32_t run_index(const std::string& run_id) {
    if (run_id.empty()) return 0;
    auto [it, inserted] = run_index_.try_emplace(run_id, static_cast<std::uint32_t>(run_ids_.size() + 1));
    if (inserted) run_ids_.push_back(run_id);
    return it->second;
  }

  void apply(PendingLead& p, Lookup& lk) {
    std::size_t i = idx(lk.signal);
    SignalResult r = lk.outcome.result;
    r.from_cache = lk.from_cache;
    p.lead.results[i] = std::move(r);
    if (lk.outcome.result.status == SignalStatus::kFound) apply_value(p.lead, lk.signal, lk.outcome.value);
    if (!lk.run_id.empty() &&
        std::find(p.lead.provider_run_ids.begin(), p.lead.provider_run_ids.end(), lk.run_id) ==
            p.lead.provider_run_ids.end()) {
      p.lead.provider_run_ids.push_back(lk.run_id);
    }
    if (lk.outcome.billed && !lk.attributed && !lk.from_cache) {
      lk.attributed = true;
      ++p.lead.billed_lookups;
      p.lead.estimated_credits += spec(lk.signal).credits_per_lookup;
    }
  }

  // ---- delivering ----

  void emit_ready() {
    while (!leads_.empty() && leads_.front().pending == 0) {
      PendingLead& p = leads_.front();
      EnrichedLead& e = p.lead;
      update_signal_lists(e);
      Timestamp t = ctx_.clock->now();
      e.quality_score = compute_quality_score(e, ctx_.config->signal_specs, t);
      e.enriched_at = t;
      for (Signal s : kAllSignals) ++summary_.counts[idx(s)][static_cast<std::size_t>(e.result(s).status)];
      ++summary_.leads;
      ++progress_.leads_done;
      sink_(std::move(e));
      leads_.pop_front();
    }
  }

  void report_progress() {
    if (opts_.progress) opts_.progress(progress_);
  }

  // ---- cancellation and waiting ----

  void cancel_all() {
    summary_.cancelled = true;
    source_done_ = true;
    Status st(StatusCode::kCancelled, "the run was cancelled");
    fatal_ = st;
    std::vector<std::size_t> ids;
    for (const auto& [id, b] : batches_) ids.push_back(id);
    for (std::size_t id : ids) fail_batch(id, st, false);
    timers_.clear();
    fail_all_queues(st);
  }

  void fail_all_queues(const Status& st) {
    for (auto* queues : {&groups_, &late_}) {
      for (auto& [mask, queue] : *queues) fail_queue(queue, st);
    }
  }

  void fire_timers() {
    while (!timers_.empty() && timers_.begin()->first <= now()) {
      auto fire = std::move(timers_.begin()->second);
      timers_.erase(timers_.begin());
      fire();
    }
  }

  void wait_for_work() {
    bool queued = records_queued_ > 0;
    std::optional<Clock::SteadyTime> wake;
    if (!timers_.empty()) wake = timers_.begin()->first;
    if (queued && pause_until_ > now()) wake = wake ? std::min(*wake, pause_until_) : pause_until_;
    if (outstanding_ > 0) {
      std::unique_lock lock(mailbox_->mu);
      milliseconds limit(200);
      if (wake) limit = std::clamp(std::chrono::duration_cast<milliseconds>(*wake - now()), milliseconds(0), limit);
      mailbox_->cv.wait_for(lock, limit, [&] {
        return !mailbox_->events.empty() || (opts_.cancel && opts_.cancel->cancelled() && !summary_.cancelled);
      });
      return;
    }
    if (wake) {
      auto d = std::chrono::duration_cast<milliseconds>(*wake - now());
      if (d > milliseconds(0)) ctx_.clock->sleep_for(d);
      return;
    }
    bool can_progress = queued || (!source_done_ && leads_.size() < opts_.read_ahead);
    if (can_progress) return;
    // Nothing in flight, nothing scheduled, yet leads wait: never hang, fail what is left.
    Status st(StatusCode::kInternal, "the run stalled with lookups outstanding");
    std::vector<std::pair<std::string, Signal>> open;
    for (const auto& [key, lk] : lookups_) {
      if (!lk.done) open.emplace_back(lk.entity, lk.signal);
    }
    for (const auto& [entity, s] : open) finish(entity, s, failed_outcome(s, st), "");
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

  std::deque<PendingLead> leads_;
  std::size_t next_seq_ = 0;
  std::unordered_map<std::string, Lookup> lookups_;
  std::unordered_map<std::string, Entity> entities_;
  std::map<Mask, std::deque<std::string>> groups_;
  std::map<Mask, std::deque<std::string>> late_;
  std::unordered_map<std::size_t, Batch> batches_;
  std::multimap<Clock::SteadyTime, std::function<void()>> timers_;
  std::unordered_map<std::uint64_t, Settled> settled_;
  std::vector<std::string> run_ids_;
  std::unordered_map<std::string, std::uint32_t> run_index_;
  // Distinct keys, counted by a 64-bit hash: exact but for odds of about 1 in 10^8 at a million.
  std::unordered_set<std::uint64_t> companies_;
  std::unordered_set<std::uint64_t> people_;

  std::size_t next_batch_ = 0;
  std::size_t records_in_flight_ = 0;
  std::size_t records_queued_ = 0;
  std::size_t records_planned_ = 0;
  std::size_t outstanding_ = 0;
  bool capacity_hold_ = false;
  Clock::SteadyTime pause_until_{};
  std::uint64_t jitter_state_ = 0x5eed;
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

Result<Plan> plan_enrichment(const RunContext& ctx, LeadSource& source) {
  const EngineOptions& opts = *ctx.options;
  std::vector<Signal> signals = opts.signals.empty() ? ctx.config->enabled_signals : opts.signals;
  Plan plan;
  std::unordered_set<std::string> companies, people, lookups, cached;
  std::unordered_set<std::string> record_entities;
  while (std::optional<SourceItem> item = source.next()) {
    if (!item->lead.ok()) {
      if (item->fatal) return item->lead.status();
      ++plan.bad_rows;
      continue;
    }
    ++plan.leads;
    LeadPlan lp = plan_lead(*item->lead, signals, ctx.config->signal_specs);
    if (lp.company_key) companies.insert(*lp.company_key);
    if (lp.person_key) people.insert(*lp.person_key);
    if (!lp.company_key && !lp.person_key) ++plan.leads_without_identity;
    for (Signal s : kAllSignals) {
      std::size_t i = idx(s);
      if (lp.entity[i].empty()) {
        if (lp.local[i].status == SignalStatus::kSkipped) ++plan.skipped[i];
        continue;
      }
      std::string key = lookup_key(lp.entity[i], s);
      if (lookups.count(key) || cached.count(key)) continue;
      if (ctx.cache.get && ctx.cache.get(s, lp.entity[i])) {
        cached.insert(key);
        ++plan.cache_hits[i];
        continue;
      }
      lookups.insert(key);
      ++plan.lookups[i];
      plan.estimated_credits += ctx.config->spec(s).credits_per_lookup;
      record_entities.insert(lp.entity[i]);
    }
  }
  plan.companies = companies.size();
  plan.people = people.size();
  plan.records = record_entities.size();
  return plan;
}

}  // namespace leadenrich::internal
