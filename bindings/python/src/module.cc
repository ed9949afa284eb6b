// _leadenrich: shims from Python to the C++ API. Behaviour lives in C++; this file converts
// values, releases the GIL around network waits, and turns Status into typed exceptions.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <set>
#include <optional>
#include <thread>

#include "signals/signal_codec.h"
#include "leadenrich/aturiya.h"
#include "leadenrich/engine.h"
#include "leadenrich/journal.h"
#include "leadenrich/pipe0.h"
#include "leadenrich/open_store.h"
#include "leadenrich/sqlite_store.h"
#include "leadenrich/store.h"
#include "leadenrich/testing/sandbox.h"
#include "leadenrich/version.h"

namespace py = pybind11;
using namespace leadenrich;

namespace {

// ---- values ----

py::object to_python(const Json& j) {
  switch (j.type()) {
    case Json::Type::kNull: return py::none();
    case Json::Type::kBool: return py::bool_(j.as_bool());
    case Json::Type::kNumber:
      if (auto i = j.to_int()) {
        if (j.number_text().find_first_of(".eE") == std::string::npos) return py::int_(*i);
      }
      return py::float_(j.to_double().value_or(0));
    case Json::Type::kString: return py::str(j.as_string());
    case Json::Type::kArray: {
      py::list l;
      for (const Json& item : j.as_array()) l.append(to_python(item));
      return std::move(l);
    }
    case Json::Type::kObject: {
      py::dict d;
      for (const auto& [k, v] : j.as_object()) d[py::str(k)] = to_python(v);
      return std::move(d);
    }
  }
  return py::none();
}

// Errors cross into Python through one table in leadenrich/_errors.py.
[[noreturn]] void raise(const Status& st) { throw StatusError(st); }

// A Python str as UTF-8. Anything else is a TypeError naming `what`; a str that cannot be UTF-8
// (a lone surrogate such as "\ud800") is invalid input. pybind11's own cast would raise a
// RuntimeError ("Unable to cast Python instance ...") for both.
std::string text(py::handle o, const std::string& what) {
  if (!py::isinstance<py::str>(o)) {
    throw py::type_error(what + " must be a str, not " + std::string(Py_TYPE(o.ptr())->tp_name));
  }
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(o.ptr(), &size);
  if (data == nullptr) {
    PyErr_Clear();
    raise(invalid_argument(what + " is not valid text (it holds a lone surrogate)"));
  }
  return std::string(data, static_cast<std::size_t>(size));
}

Json from_python(py::handle o, int depth = 0) {
  if (depth > 200) throw py::value_error("value nested too deeply");
  if (o.is_none()) return Json();
  if (py::isinstance<py::bool_>(o)) return Json(o.cast<bool>());
  if (py::isinstance<py::int_>(o)) return Json::number(py::str(o).cast<std::string>()).value();
  if (py::isinstance<py::float_>(o)) return Json(o.cast<double>());
  if (py::isinstance<py::str>(o)) return Json(text(o, "a string value"));
  if (py::isinstance<py::dict>(o)) {
    Json::Object obj;
    for (auto [k, v] : o.cast<py::dict>()) {
      if (!py::isinstance<py::str>(k)) throw py::type_error("dict keys must be str, not " + std::string(Py_TYPE(k.ptr())->tp_name));
      std::string key = text(k, "a dict key");
      obj.emplace_back(std::move(key), from_python(v, depth + 1));
    }
    return Json(std::move(obj));
  }
  if (py::isinstance<py::list>(o) || py::isinstance<py::tuple>(o)) {
    Json::Array arr;
    for (py::handle item : o) arr.push_back(from_python(item, depth + 1));
    return Json(std::move(arr));
  }
  throw py::type_error("cannot convert " + py::str(py::type::of(o)).cast<std::string>() + " to JSON");
}

template <typename T>
T unwrap(Result<T> r) {
  if (!r.ok()) raise(r.status());
  return std::move(r).value();
}

RawLead lead_from(py::handle o) {
  if (py::isinstance<RawLead>(o)) return o.cast<RawLead>();
  if (py::isinstance<py::dict>(o)) return unwrap(raw_lead_from_json(from_python(o)));
  throw py::type_error("a lead is a RawLead or a dict");
}

py::dict result_dict(const SignalResult& r) {
  py::dict d;
  d["status"] = std::string(to_string(r.status));
  d["reason"] = r.reason ? py::object(py::dict(py::arg("code") = r.reason->code, py::arg("message") = r.reason->message))
                         : py::object(py::none());
  d["source"] = r.source;
  d["fetched_at"] = r.fetched_at ? py::object(py::str(format_timestamp(*r.fetched_at))) : py::object(py::none());
  d["from_cache"] = r.from_cache;
  return d;
}

std::vector<std::string> names(const std::vector<Signal>& signals) {
  std::vector<std::string> out;
  for (Signal s : signals) out.emplace_back(to_string(s));
  return out;
}

// ---- waiting without blocking Ctrl-C ----

// Runs `work` (C++ only: it must not touch Python objects without taking the GIL) with the GIL
// released, and returns its result. On Python's main thread the work runs on a helper thread
// while this one wakes every 50 ms to run Python's signal handlers: a KeyboardInterrupt (or an
// exception from another handler) cancels `cancel`, waits for the work to wind down — the
// engine fails what is outstanding as cancelled and returns — and is raised. Waiting inside the
// engine instead would delay Ctrl-C until the next network answer. Other threads never receive
// signals in Python, so there the work runs inline.
template <typename T>
T run_interruptible(const std::function<T()>& work, CancellationToken& cancel) {
  py::object threading = py::module_::import("threading");
  if (!threading.attr("current_thread")().is(threading.attr("main_thread")())) {
    py::gil_scoped_release release;
    return work();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::optional<T> result;
  std::exception_ptr thrown;
  std::optional<py::error_already_set> interrupted;
  {
    py::gil_scoped_release release;
    std::thread worker([&] {
      try {
        result.emplace(work());
      } catch (...) {
        thrown = std::current_exception();
      }
      std::lock_guard lock(mu);
      done = true;
      cv.notify_all();
    });
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
      lock.unlock();  // never wait for the GIL holding `mu`: the worker may hold the GIL and want `mu`
      {
        py::gil_scoped_acquire acquire;
        if (PyErr_CheckSignals() != 0) {
          if (interrupted) {
            PyErr_Clear();  // a second Ctrl-C while winding down: the first is raised
          } else {
            interrupted.emplace();
            cancel.cancel();
          }
        }
      }
      lock.lock();
    }
    lock.unlock();
    worker.join();
  }
  if (interrupted) throw std::move(*interrupted);
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*result);
}

// ---- the enricher ----

class PyEnricher {
 public:
  PyEnricher(Config config, std::optional<std::string> store_path) : config_(std::move(config)) {
    transport_ = make_curl_transport();
    if (store_path) store_ = unwrap(open_store(*store_path));  // a SQLite path or a postgresql:// URI
    Result<std::shared_ptr<Pipe0Connection>> p = make_pipe0_connection(pipe0_options(config_), transport_);
    pipe0_ = unwrap(std::move(p));
    enricher_ = std::make_unique<Enricher>(config_, pipe0_, store_);
  }

  EnrichedLead enrich_one(py::handle lead) {
    RawLead raw = lead_from(lead);
    auto cancel = std::make_shared<CancellationToken>();
    EngineOptions opts;
    opts.cancel = cancel;
    std::function<Result<EnrichedLead>()> work = [&] { return enricher_->enrich_one(raw, opts); };
    return unwrap(run_interruptible(work, *cancel));
  }

  // A list in, a list out. The GIL is released while the engine runs; the progress callback
  // takes it back briefly, and Ctrl-C is checked every 50 ms (run_interruptible). An exception in
  // the callback cancels the run and is raised here. With `journal` (or `resume`) the run is
  // journaled in the store: after a Ctrl-C or a crash the same call continues it, paying only for
  // what was not finished.
  std::vector<EnrichedLead> enrich(py::iterable leads, py::object progress, bool journal,
                                   std::optional<std::string> resume) {
    std::vector<RawLead> raw;
    for (py::handle l : leads) raw.push_back(lead_from(l));
    bool journaled = journal || resume.has_value();
    if (journaled) check_journaled(raw);
    auto cancel = std::make_shared<CancellationToken>();
    EngineOptions opts;
    opts.cancel = cancel;
    std::optional<py::error_already_set> failure;
    auto last_check = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    if (!progress.is_none()) opts.progress = [&](const Progress& p) {
      auto now = std::chrono::steady_clock::now();
      bool done = p.source_done && p.leads_done == p.leads_read;
      if (!done && now - last_check < std::chrono::milliseconds(50)) return;
      last_check = now;
      py::gil_scoped_acquire acquire;
      if (failure) return;
      try {
        py::dict d;
        d["leads_read"] = p.leads_read;
        d["leads_done"] = p.leads_done;
        d["lookups_planned"] = p.lookups_planned;
        d["lookups_done"] = p.lookups_done;
        d["cache_hits"] = p.cache_hits;
        d["requests"] = p.requests;
        progress(d);
      } catch (py::error_already_set& e) {
        failure = std::move(e);
        cancel->cancel();
      }
    };
    if (journaled) {
      JournalOptions j;
      j.input = describe_leads(raw, config_.enabled_signals);
      j.resume = resume;
      j.resume_unfinished = !resume.has_value();
      j.on_start = [this](const JournalStart& start) {
        std::lock_guard lock(run_id_mu_);
        last_run_id_ = start.run_id;
      };
      std::vector<EnrichedLead> out;
      std::function<Result<JournaledSummary>()> work = [&]() -> Result<JournaledSummary> {
        std::unique_ptr<LeadSource> source = make_vector_source(std::move(raw));
        return enrich_journaled(*enricher_, *source, [&](EnrichedLead&& e) { out.push_back(std::move(e)); }, j, opts);
      };
      Result<JournaledSummary> js = run_interruptible(work, *cancel);
      if (failure) throw std::move(*failure);
      JournaledSummary summary = unwrap(std::move(js));
      if (!summary.journal.ok()) raise(summary.journal);
      return out;
    }
    std::function<Result<std::vector<EnrichedLead>>()> work = [&] { return enricher_->enrich(raw, opts); };
    Result<std::vector<EnrichedLead>> out = run_interruptible(work, *cancel);
    if (failure) throw std::move(*failure);
    return unwrap(std::move(out));
  }

  std::optional<std::string> last_run_id() {
    std::lock_guard lock(run_id_mu_);
    if (last_run_id_.empty()) return std::nullopt;
    return last_run_id_;
  }

  // A journaled run is resumed by input position and matched by content: every lead needs its
  // own lead_id.
  void check_journaled(const std::vector<RawLead>& raw) const {
    if (!store_) raise(failed_precondition("enrich(journal=True) needs a store: Enricher(config, store=PATH)"));
    std::set<std::string> seen;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i].lead_id.empty()) raise(invalid_argument("leads[" + std::to_string(i) + "]: lead_id missing or empty"));
      if (!seen.insert(raw[i].lead_id).second) {
        raise(invalid_argument("leads[" + std::to_string(i) + "]: duplicate lead_id '" + raw[i].lead_id + "'"));
      }
    }
  }

  py::dict plan(py::iterable leads) {
    std::vector<RawLead> raw;
    for (py::handle l : leads) raw.push_back(lead_from(l));
    auto source = make_vector_source(std::move(raw));
    Plan p = unwrap(enricher_->plan(*source));
    py::dict lookups, hits, skipped;
    for (Signal s : kAllSignals) {
      auto i = static_cast<std::size_t>(s);
      lookups[py::str(std::string(to_string(s)))] = p.lookups[i];
      hits[py::str(std::string(to_string(s)))] = p.cache_hits[i];
      skipped[py::str(std::string(to_string(s)))] = p.skipped[i];
    }
    py::dict d;
    d["leads"] = p.leads;
    d["bad_rows"] = p.bad_rows;
    d["companies"] = p.companies;
    d["people"] = p.people;
    d["records"] = p.records;
    d["lookups"] = lookups;
    d["cache_hits"] = hits;
    d["skipped"] = skipped;
    d["estimated_credits"] = p.estimated_credits;
    return d;
  }

 private:
  Config config_;
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<Pipe0Connection> pipe0_;
  std::shared_ptr<Store> store_;
  std::unique_ptr<Enricher> enricher_;
  std::mutex run_id_mu_;
  std::string last_run_id_;  ///< of the latest journaled enrich()
};

// A store opened by name (leadenrich.open_store): what a program checks or lists before a run.
class PyStore {
 public:
  explicit PyStore(const std::string& uri_or_path)
      : name_(store_display_name(uri_or_path)), store_(unwrap(open_store(uri_or_path))) {}
  const std::string& name() const { return name_; }
  py::dict cache_stats() {
    py::dict d;
    for (const auto& [signal, n] : unwrap(store_->cache_stats())) d[py::str(signal)] = n;
    return d;
  }
  py::list runs() {
    py::list out;
    for (const RunRecord& r : unwrap(store_->list_runs())) {
      py::dict d;
      d["id"] = r.id;
      d["state"] = std::string(to_string(r.state));
      d["leads_done"] = r.leads_done;
      d["input"] = r.input;
      d["updated_at"] = format_timestamp(r.updated_at);
      out.append(d);
    }
    return out;
  }

 private:
  std::string name_;
  std::shared_ptr<Store> store_;
};

class PyAturiya {
 public:
  explicit PyAturiya(const Config& config)
      : transport_(make_curl_transport()), client_(unwrap(make_aturiya_connection(aturiya_options(config), transport_))) {}

  py::list campaigns() {
    Result<std::vector<Campaign>> r = Status(StatusCode::kUnknown, "not run");
    {
      py::gil_scoped_release release;
      r = client_->campaigns();
    }
    py::list out;
    for (const Campaign& c : unwrap(std::move(r))) {
      py::dict d;
      d["id"] = c.id;
      d["name"] = c.name;
      for (const auto& [k, v] : c.extra) d[py::str(k)] = to_python(v);
      out.append(d);
    }
    return out;
  }

  RawLead lead(const std::string& lead_id) {
    Result<RawLead> r = Status(StatusCode::kUnknown, "not run");
    {
      py::gil_scoped_release release;
      r = client_->lead(lead_id);
    }
    return unwrap(std::move(r));
  }

  std::vector<RawLead> leads(const std::string& campaign_id, std::optional<std::size_t> limit) {
    LeadPaging paging;
    paging.limit = limit;
    Result<std::vector<RawLead>> r = Status(StatusCode::kUnknown, "not run");
    {
      py::gil_scoped_release release;
      r = client_->leads(campaign_id, paging);
    }
    return unwrap(std::move(r));
  }

 private:
  std::shared_ptr<HttpTransport> transport_;
  std::shared_ptr<AturiyaConnection> client_;
};

Config make_config(const py::kwargs& kw) {
  Config c;
  for (auto [k, v] : kw) {
    std::string key = py::str(k);
    if (v.is_none()) continue;
    auto str = [&, v = v] { return text(v, "Config(" + key + "=...)"); };
    if (key == "aturiya_base_url") c.aturiya_base_url = str();
    else if (key == "aturiya_bearer_token") c.aturiya_bearer_token = Secret(str());
    else if (key == "aturiya_user_id") c.aturiya_user_id = str();
    else if (key == "aturiya_agent_id") c.aturiya_agent_id = str();
    else if (key == "pipe0_base_url") c.pipe0_base_url = str();
    else if (key == "pipe0_api_key") c.pipe0_api_key = Secret(str());
    else if (key == "pipe0_environment") {
      std::string e = str();
      if (e != "production" && e != "sandbox") raise(invalid_argument("pipe0_environment must be 'production' or 'sandbox'"));
      c.pipe0_environment = e == "sandbox" ? Pipe0Environment::kSandbox : Pipe0Environment::kProduction;
    } else if (key == "signals") {
      // A list of names; a single str is a comma list ("news,funding"), not its characters.
      std::vector<Signal> signals;
      if (py::isinstance<py::str>(v)) {
        signals = unwrap(parse_signal_list(str()));
      } else if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
        for (py::handle s : v) signals.push_back(unwrap(parse_signal(text(s, "Config(signals=[...]) item"))));
      } else {
        throw py::type_error("Config(signals=...) must be a list of signal names, not " +
                             std::string(Py_TYPE(v.ptr())->tp_name));
      }
      c.enabled_signals = signals;
    } else {
      throw py::type_error("Config() got an unexpected keyword argument '" + key + "'");
    }
  }
  return c;
}

}  // namespace

PYBIND11_MODULE(_leadenrich, m) {
  m.doc() = "leadenrich's compiled core; use the leadenrich package.";
  m.attr("__version__") = kVersion;

  // StatusError -> the typed exception the Python package builds from the status.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const StatusError& e) {
      const Status& st = e.status();
      py::object errors = py::module_::import("leadenrich._errors");
      py::object retry = st.retry_after() ? py::object(py::float_(static_cast<double>(st.retry_after()->count()) / 1000.0))
                                          : py::object(py::none());
      py::object exc = errors.attr("from_status")(std::string(to_string(st.code())), st.message(), st.http_status(),
                                                  st.provider(), retry);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });

  py::class_<Config>(m, "Config")
      .def(py::init(&make_config))
      .def_static("from_env", [](const std::string& dotenv_path) {
            LoadOptions o;
            o.dotenv_path = dotenv_path;
            return unwrap(load_config(o));
          }, py::arg("dotenv_path") = ".env")
      .def_readwrite("aturiya_base_url", &Config::aturiya_base_url)
      .def_readwrite("aturiya_user_id", &Config::aturiya_user_id)
      .def_readwrite("aturiya_agent_id", &Config::aturiya_agent_id)
      .def_readwrite("pipe0_base_url", &Config::pipe0_base_url)
      .def_property_readonly("pipe0_environment", [](const Config& c) { return std::string(to_string(c.pipe0_environment)); })
      .def_property_readonly("signals", [](const Config& c) { return names(c.enabled_signals); })
      .def_property_readonly("has_pipe0_api_key", [](const Config& c) { return !c.pipe0_api_key.empty(); })
      .def_property_readonly("has_aturiya_token", [](const Config& c) { return !c.aturiya_bearer_token.empty(); })
      .def("__str__", &Config::to_string)
      .def("__repr__", [](const Config& c) {
        return "Config(pipe0_base_url='" + c.pipe0_base_url + "', pipe0_api_key=" + c.pipe0_api_key.redacted() +
               ", aturiya_base_url='" + c.aturiya_base_url + "', aturiya_bearer_token=" + c.aturiya_bearer_token.redacted() + ")";
      });

  py::class_<RawLead>(m, "RawLead")
      .def(py::init([](const std::string& lead_id, py::kwargs kw) {
             py::dict d(kw);
             d["lead_id"] = lead_id;
             return unwrap(raw_lead_from_json(from_python(d)));
           }), py::arg("lead_id"))
      .def_static("from_dict", [](py::dict d) { return unwrap(raw_lead_from_json(from_python(d))); })
      .def("to_dict", [](const RawLead& l) { return to_python(to_json(l)); })
      .def_readwrite("lead_id", &RawLead::lead_id)
      .def_readwrite("name", &RawLead::name)
      .def_readwrite("email", &RawLead::email)
      .def_readwrite("phone", &RawLead::phone)
      .def_readwrite("organization", &RawLead::organization)
      .def_readwrite("designation", &RawLead::designation)
      .def_readwrite("linkedin_url", &RawLead::linkedin_url)
      .def_readwrite("website", &RawLead::website)
      .def_readwrite("campaign_id", &RawLead::campaign_id)
      .def_readwrite("campaign_name", &RawLead::campaign_name)
      .def("__eq__", [](const RawLead& a, const RawLead& b) { return a == b; })
      .def("__repr__", [](const RawLead& l) {
        return "RawLead(lead_id='" + l.lead_id + "', name=" + (l.name ? "'" + *l.name + "'" : "None") +
               ", email=" + (l.email ? "'" + *l.email + "'" : "None") + ")";
      });

  py::class_<EnrichedLead> enriched_lead(m, "EnrichedLead");
  // One property per signal, named as the signal: its value as a dict, or None.
  for (Signal s : kAllSignals) {
    enriched_lead.def_property_readonly(std::string(to_string(s)).c_str(), [s](const EnrichedLead& e) {
      return to_python(signal_value_to_json(e, s));
    });
  }
  enriched_lead
      .def_static("from_dict", [](py::dict d) { return unwrap(enriched_lead_from_json(from_python(d))); })
      .def("to_dict", [](const EnrichedLead& e) { return to_python(to_json(e)); })
      .def("to_json", [](const EnrichedLead& e) { return to_json(e).dump(); })
      .def_readonly("lead", &EnrichedLead::lead)
      .def_property_readonly("results", [](const EnrichedLead& e) {
        py::dict d;
        for (Signal s : kAllSignals) d[py::str(std::string(to_string(s)))] = result_dict(e.result(s));
        return d;
      })
      .def_property_readonly("signals_found", [](const EnrichedLead& e) { return names(e.signals_found); })
      .def_property_readonly("signals_missed", [](const EnrichedLead& e) { return names(e.signals_missed); })
      .def_readonly("quality_score", &EnrichedLead::quality_score)
      .def_readonly("company_key", &EnrichedLead::company_key)
      .def_readonly("person_key", &EnrichedLead::person_key)
      .def_readonly("provider_run_ids", &EnrichedLead::provider_run_ids)
      .def_readonly("billed_lookups", &EnrichedLead::billed_lookups)
      .def_readonly("estimated_credits", &EnrichedLead::estimated_credits)
      .def_readonly("sandbox", &EnrichedLead::sandbox)
      .def_property_readonly("enriched_at", [](const EnrichedLead& e) {
        return e.enriched_at ? py::object(py::str(format_timestamp(*e.enriched_at))) : py::object(py::none());
      })
      .def("__repr__", [](const EnrichedLead& e) {
        std::string found;
        for (const auto& n : names(e.signals_found)) found += (found.empty() ? "" : ", ") + n;
        return "EnrichedLead(lead_id='" + e.lead.lead_id + "', quality_score=" + std::to_string(e.quality_score) +
               ", signals_found=[" + found + "])";
      });

  py::class_<PyEnricher>(m, "Enricher")
      .def(py::init<Config, std::optional<std::string>>(), py::arg("config"), py::arg("store") = py::none())
      .def("enrich_one", &PyEnricher::enrich_one, py::arg("lead"))
      .def("enrich", &PyEnricher::enrich, py::arg("leads"), py::arg("progress") = py::none(), py::kw_only(),
           py::arg("journal") = false, py::arg("resume") = py::none())
      .def_property_readonly("last_run_id", &PyEnricher::last_run_id)
      .def("plan", &PyEnricher::plan, py::arg("leads"));

  py::class_<PyStore>(m, "Store")
      .def_property_readonly("name", &PyStore::name)
      .def("cache_stats", &PyStore::cache_stats)
      .def("runs", &PyStore::runs)
      .def("__repr__", [](const PyStore& s) { return "Store('" + s.name() + "')"; });
  m.def("open_store", [](const std::string& uri_or_path) { return PyStore(uri_or_path); }, py::arg("uri_or_path"),
        "Opens a store: a SQLite file path or a postgresql:// URI.");

  py::class_<PyAturiya>(m, "AturiyaClient")
      .def(py::init<const Config&>(), py::arg("config"))
      .def("campaigns", &PyAturiya::campaigns)
      .def("leads", &PyAturiya::leads, py::arg("campaign_id"), py::arg("limit") = py::none())
      .def("lead", &PyAturiya::lead, py::arg("lead_id"));

  py::class_<Sandbox>(m, "_Sandbox")
      .def_static("start", [](std::uint64_t seed, int latency_ms, double fail_5xx, double fail_429, std::string require_key) {
            SandboxOptions o;
            o.seed = seed;
            o.faults.latency = std::chrono::milliseconds(latency_ms);
            o.faults.p_5xx = fail_5xx;
            o.faults.p_429 = fail_429;
            o.require_key = std::move(require_key);
            return unwrap(Sandbox::start(o));
          }, py::arg("seed") = 42, py::arg("latency_ms") = 0, py::arg("fail_5xx") = 0.0, py::arg("fail_429") = 0.0,
          py::arg("require_key") = "")
      .def_property_readonly("base_url", &Sandbox::base_url)
      .def_property_readonly("config", &Sandbox::config)
      .def("counters", [](const Sandbox& s) {
        SandboxCounters c = s.counters();
        py::dict d;
        d["requests"] = c.requests;
        d["records"] = c.records;
        d["lookups"] = c.lookups;
        d["billed"] = c.billed;
        d["repeated_billing"] = c.repeated_billing;
        d["peak_records_in_flight"] = c.peak_records_in_flight;
        return d;
      })
      .def("stop", [](Sandbox& s) {
        py::gil_scoped_release release;
        s.stop();
      });
}
