#include "internal/pipe0_port.h"

#include "leadenrich/pipe0.h"

namespace leadenrich::internal {
namespace {

Result<BatchResponse> to_batch(Result<Pipe0Response> r) {
  if (!r.ok()) return r.status();
  BatchResponse out;
  out.run_id = r->run.id;
  out.status = r->run.status;
  out.priority = r->capacity.priority;
  out.p1_capacity = r->capacity.p1;
  out.p2_capacity = r->capacity.p2;
  out.attempts = r->attempts;
  for (const Pipe0RunError& e : r->run.errors) {
    out.errors.push_back(e.code.empty() ? e.message : e.code + ": " + e.message);
  }
  for (Pipe0Record& rec : r->run.records) {
    BatchRecordResult br;
    br.id = rec.id;
    for (Pipe0Field& f : rec.fields) {
      if (f.is_input()) continue;  // echoed inputs are not enrichment results
      ProviderField pf;
      pf.name = std::move(f.name);
      pf.value = std::move(f.value);
      pf.status = std::move(f.status);
      if (f.reason) {
        pf.reason_code = f.reason->code;
        pf.reason_message = !f.reason->message.empty() ? f.reason->message : f.reason->summary;
      }
      br.fields.push_back(std::move(pf));
    }
    out.records.push_back(std::move(br));
  }
  return out;
}

class ConnectionPort : public Pipe0Port {
 public:
  ConnectionPort(std::shared_ptr<Pipe0Connection> connection, std::vector<SignalSpec> specs)
      : connection_(std::move(connection)), specs_(std::move(specs)) {}

  void run_sync(BatchRequest request, BatchCallback done) override {
    connection_->run_sync_async(convert(std::move(request)), wrap(std::move(done)));
  }
  void create_run(BatchRequest request, BatchCallback done) override {
    connection_->create_run_async(convert(std::move(request)), wrap(std::move(done)));
  }
  void check(std::string run_id, BatchCallback done) override {
    connection_->check_async(std::move(run_id), wrap(std::move(done)));
  }

 private:
  static Pipe0Callback wrap(BatchCallback done) {
    return [done = std::move(done)](Result<Pipe0Response> r) { done(to_batch(std::move(r))); };
  }

  Pipe0RunRequest convert(BatchRequest request) const {
    Pipe0RunRequest out;
    for (const std::string& id : request.pipe_ids) {
      Pipe0PipeRef ref;
      ref.pipe_id = id;
      for (const SignalSpec& s : specs_) {
        if (s.pipe_id == id) ref.required_inputs = s.required_inputs;
      }
      out.pipes.push_back(std::move(ref));
    }
    for (BatchRecord& r : request.records) out.records.push_back(Pipe0InputRecord{std::move(r.id), std::move(r.inputs)});
    return out;
  }

  std::shared_ptr<Pipe0Connection> connection_;
  std::vector<SignalSpec> specs_;
};

}  // namespace

std::shared_ptr<Pipe0Port> make_pipe0_port(std::shared_ptr<Pipe0Connection> connection,
                                           const std::vector<SignalSpec>& specs) {
  return std::make_shared<ConnectionPort>(std::move(connection), specs);
}

}  // namespace leadenrich::internal
