// The submitter side of distributed runs and the run's spec: begin (or resume) the journaled run,
// cut the input into chunks, wait while working, deliver in input order, finish the run.
#include "leadenrich/distributed.h"

#include <set>

#include <fmt/format.h>

#include "internal/distributed_queue.h"
#include "leadenrich/json.h"

namespace leadenrich {
namespace {

using internal::distributed_now;

void count_lead(RunSummary& s, const EnrichedLead& lead, std::set<std::string>& companies,
                std::set<std::string>& people) {
  ++s.leads;
  for (Signal sig : kAllSignals) {
    ++s.counts[static_cast<std::size_t>(sig)][static_cast<std::size_t>(lead.result(sig).status)];
  }
  if (lead.company_key) companies.insert(*lead.company_key);
  if (lead.person_key) people.insert(*lead.person_key);
  if (!lead.company_key && !lead.person_key) ++s.leads_without_identity;
  s.billed_lookups += static_cast<std::size_t>(lead.billed_lookups);
  s.estimated_credits += lead.estimated_credits;
  for (const std::string& id : lead.provider_run_ids) s.provider_run_ids.push_back(id);
}

}  // namespace

std::string DistributedSpec::to_json_text() const {
  Json::Array names;
  for (Signal s : signals) names.emplace_back(to_string(s));
  Json j;
  j.set("version", Json(kVersion));
  j.set("signals", Json(std::move(names)));
  j.set("max_age_seconds", max_age ? Json(static_cast<std::int64_t>(max_age->count())) : Json());
  j.set("mode", Json(to_string(mode)));
  j.set("sandbox", Json(sandbox));
  return j.dump();
}

Result<DistributedSpec> DistributedSpec::parse(std::string_view text) {
  Result<Json> j = Json::parse(text);
  auto bad = [](std::string why) { return invalid_argument("distributed run spec: " + why); };
  if (!j.ok() || !j->is_object()) return bad("not a JSON object");
  const Json* version = j->find("version");
  std::optional<std::int64_t> v = version ? version->to_int() : std::nullopt;
  if (!v) return bad("no version");
  if (*v > kVersion) {
    return bad(fmt::format("version {} is from a newer leadenrich (this one knows {}): upgrade this worker", *v,
                           kVersion));
  }
  DistributedSpec spec;
  const Json* signals = j->find("signals");
  if (signals == nullptr || !signals->is_array()) return bad("no signals");
  for (const Json& name : signals->as_array()) {
    Result<Signal> s = parse_signal(name.to_text());
    if (!s.ok()) return bad(s.status().message());
    spec.signals.push_back(*s);
  }
  if (const Json* age = j->find("max_age_seconds"); age != nullptr && !age->is_null()) {
    std::optional<std::int64_t> seconds = age->to_int();
    if (!seconds || *seconds < 0) return bad("max_age_seconds is not a number of seconds");
    spec.max_age = std::chrono::seconds(*seconds);
  }
  if (const Json* mode = j->find("mode"); mode != nullptr) {
    Result<RunMode> m = parse_run_mode(mode->to_text());
    if (!m.ok()) return bad(m.status().message());
    spec.mode = *m;
  }
  if (const Json* sandbox = j->find("sandbox"); sandbox != nullptr && sandbox->is_bool()) spec.sandbox = sandbox->as_bool();
  return spec;
}

Result<DistributedSpec> distributed_spec(const EngineOptions& options) {
  if (options.budget_credits) {
    return invalid_argument("a budget cannot bound a distributed run (each worker would spend up to it): "
                            "drop --budget or --distributed");
  }
  DistributedSpec spec;
  spec.signals = options.signals;
  spec.max_age = options.max_age;
  spec.mode = options.mode;
  spec.sandbox = options.sandbox;
  return spec;
}

Result<Submitted> submit_distributed(Store& store, LeadSource& source, const DistributedSpec& spec,
                                     const SubmitOptions& options) {
  Status no_queue;
  WorkQueue* q = internal::work_queue_of(store, no_queue);
  if (q == nullptr) return no_queue;
  if (options.chunk_size == 0) return invalid_argument("a chunk holds at least one lead");
  if (options.input.empty()) return invalid_argument("a distributed run needs a description of its input");

  Submitted out;
  std::size_t skip = 0;  // leads already in chunks (a resume)
  std::set<std::size_t> journaled;
  bool sealed = false;
  if (options.resume) {
    Result<RunRecord> previous = store.run(*options.resume);
    if (!previous.ok()) return previous.status();
    if (previous->input != options.input) {
      return invalid_argument(fmt::format("run {} was over {}, not over this input ({})", *options.resume,
                                          previous->input, options.input));
    }
    LEADENRICH_RETURN_IF_ERROR(store.claim_run(*options.resume));
    out.run_id = *options.resume;
    out.resumed = true;
    Result<std::optional<DistributedRun>> run = q->distributed_run(out.run_id);
    Status st = run.ok() ? Status() : run.status();
    if (st.ok() && !run->has_value()) st = q->create_distributed(out.run_id, spec.to_json_text());
    if (!st.ok()) {
      store.release_run(out.run_id);
      return st;
    }
    if (run->has_value()) {
      skip = (*run)->leads;
      sealed = (*run)->sealed;
      out.chunks = (*run)->chunks;
    } else {
      // Journaled before it was distributed (a plain run, or a submitter killed at its start):
      // those leads are done and go in no chunk.
      Result<std::vector<std::pair<std::size_t, EnrichedLead>>> done = store.run_leads(out.run_id);
      if (!done.ok()) {
        store.release_run(out.run_id);
        return done.status();
      }
      for (const auto& entry : *done) journaled.insert(entry.first);
    }
  } else {
    Result<std::optional<RunRecord>> unfinished = store.find_unfinished_run(options.input);
    if (!unfinished.ok()) return unfinished.status();
    out.unfinished = std::move(unfinished).value();
    Result<std::string> begun = store.begin_run(options.input, distributed_now());
    if (!begun.ok()) return begun.status();
    out.run_id = *begun;
    Status st = store.claim_run(out.run_id);
    if (st.ok()) st = q->create_distributed(out.run_id, spec.to_json_text());
    if (!st.ok()) {
      store.release_run(out.run_id);
      ignore_error(store.finish_run(out.run_id, RunState::kFailed, distributed_now()),
                   "the first error is the one reported");
      return st;
    }
  }
  out.leads = skip;

  // On error the run stays as it is (running, claimed by no one): `--resume` adds the rest.
  auto fail = [&](Status st) -> Result<Submitted> {
    store.release_run(out.run_id);
    return st;
  };
  if (!sealed) {
    WorkChunk chunk;
    chunk.run_id = out.run_id;
    auto add = [&]() -> Status {
      if (chunk.leads.empty()) return {};
      LEADENRICH_RETURN_IF_ERROR(q->add_chunks(out.run_id, {chunk}));
      ++out.chunks;
      out.leads += chunk.leads.size();
      out.added += chunk.leads.size();
      chunk.leads.clear();
      return {};
    };
    std::size_t index = 0;
    while (std::optional<SourceItem> item = source.next()) {
      if (!item->lead.ok()) {
        if (item->fatal) return fail(item->lead.status());
        ++out.bad_rows;
        if (options.on_bad_row) options.on_bad_row(item->location, item->lead.status());
        continue;
      }
      std::size_t i = index++;
      if (i < skip || journaled.count(i) != 0) continue;  // in a chunk, or done, already
      chunk.leads.emplace_back(i, std::move(item->lead).value());
      if (chunk.leads.size() >= options.chunk_size) {
        if (Status st = add(); !st.ok()) return fail(st);
      }
    }
    if (Status st = add(); !st.ok()) return fail(st);
    if (Status st = q->seal(out.run_id); !st.ok()) return fail(st);
  }
  return out;
}

Result<CollectSummary> collect_distributed(Enricher& enricher, const std::string& run_id,
                                           const std::function<void(EnrichedLead&&)>& sink, WorkerOptions options) {
  if (!enricher.store()) return failed_precondition("a distributed run needs a store");
  Store& store = *enricher.store();
  Status no_queue;
  WorkQueue* q = internal::work_queue_of(store, no_queue);
  if (q == nullptr) return no_queue;
  options.run_id = run_id;
  options.until_run_done = true;
  options.exit_when_idle = false;
  auto started = std::chrono::steady_clock::now();
  CollectSummary out;
  Result<WorkerSummary> worked = run_worker(enricher, options);
  if (!worked.ok()) {
    store.release_run(run_id);
    return worked.status();
  }
  out.worked = *worked;
  if (worked->stopped) {
    out.stopped = true;
    store.release_run(run_id);  // workers go on; `--resume` collects
    return out;
  }
  Result<std::optional<DistributedRun>> run = q->distributed_run(run_id);
  Status st = run.ok() ? Status() : run.status();
  if (st.ok() && !((*run)->sealed && (*run)->done == (*run)->chunks)) {
    st = failed_precondition(fmt::format("run {} was ended elsewhere before its chunks were done", run_id));
  }
  Result<std::vector<std::pair<std::size_t, EnrichedLead>>> leads =
      st.ok() ? store.run_leads(run_id) : Result<std::vector<std::pair<std::size_t, EnrichedLead>>>(st);
  if (leads.ok() && leads->size() < (*run)->leads) {
    leads = Status(StatusCode::kDataLoss, fmt::format("run {}: the journal holds {} of the run's {} leads", run_id,
                                                      leads->size(), (*run)->leads))
                .with_provider(std::string(kStoreProvider));
  }
  if (!leads.ok()) {
    store.release_run(run_id);
    return leads.status();
  }
  std::set<std::string> companies, people;
  for (auto& [index, lead] : *leads) {
    count_lead(out.totals, lead, companies, people);
    sink(std::move(lead));
    ++out.leads;
  }
  out.totals.companies = companies.size();
  out.totals.people = people.size();
  out.totals.wall_time =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  Status finished = store.finish_run(run_id, RunState::kFinished, distributed_now());
  store.release_run(run_id);
  LEADENRICH_RETURN_IF_ERROR(finished);
  return out;
}

}  // namespace leadenrich
