#include "postgresql/pg_leases.h"

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include <fmt/format.h>


namespace leadenrich::pg {
namespace {

std::string key_text(std::string_view signal, std::string_view entity, std::string_view pipe, std::string_view hash) {
  return fmt::format("{}\x1f{}\x1f{}\x1f{}", signal, entity, pipe, hash);
}
std::string key_text(const CacheKey& k) { return key_text(to_string(k.signal), k.entity, k.pipe_id, k.config_hash); }

Params key_params(const CacheKey& k) {
  Params p;
  p.add(std::string(to_string(k.signal))).add(k.entity).add(k.pipe_id).add(k.config_hash);
  return p;
}

// A lease's owner is alive while some session holds the advisory lock (kOwnerLockSpace,
// hashtext(owner)) in this database. Two owners whose ids hash alike only make a dead one look
// alive: its leases then wait for their expiry, as without the lock.
constexpr const char* kOwnerAlive =
    "EXISTS (SELECT 1 FROM pg_locks k WHERE k.locktype = 'advisory' AND k.classid = 1818583396"
    " AND k.objid = hashtext({}.owner)::oid AND k.objsubid = 2 AND k.granted"
    " AND k.database = (SELECT oid FROM pg_database WHERE datname = current_database()))";

std::string random_owner() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

Params key_arrays(const std::vector<const CacheKey*>& keys) {
  std::vector<std::string> signals, entities, pipes, hashes;
  for (const CacheKey* k : keys) {
    signals.emplace_back(to_string(k->signal));
    entities.push_back(k->entity);
    pipes.push_back(k->pipe_id);
    hashes.push_back(k->config_hash);
  }
  Params p;
  p.add_array(signals).add_array(entities).add_array(pipes).add_array(hashes);
  return p;
}

Leases::Leases(std::shared_ptr<Pool> pool, std::chrono::milliseconds lease_time)
    : pool_(std::move(pool)), owner_(random_owner()), lease_time_(lease_time) {
  renewer_ = std::thread([this] { renew_loop(); });
}

Leases::~Leases() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  renewer_.join();
}

// One statement for a whole pipe0 request: take what is free or expired, renew what is ours.
// Each key once (a row may not be updated twice in one statement), in key order, so that two
// owners' overlapping requests lock rows in the same order.
Status Leases::ensure_alive() {
  std::lock_guard lock(alive_mu_);
  if (alive_ != nullptr && !alive_->broken()) return {};
  Result<std::unique_ptr<Connection>> c = pool_->dedicated();
  if (!c.ok()) return c.status();
  alive_ = std::move(c).value();
  // 1818583396 is "lead" in ASCII: the namespace of owner locks (kOwnerAlive).
  return alive_->query("take lookup leases", "SELECT pg_advisory_lock(1818583396, hashtext($1))", Params().add(owner_))
      .status();
}

Result<std::vector<bool>> Leases::acquire(const std::vector<CacheKey>& keys) {
  if (keys.empty()) return std::vector<bool>();
  LEADENRICH_RETURN_IF_ERROR(ensure_alive());
  std::map<std::string, const CacheKey*> unique;
  for (const CacheKey& k : keys) unique.emplace(key_text(k), &k);
  std::vector<const CacheKey*> ordered;
  for (const auto& [text, k] : unique) ordered.push_back(k);
  Params p = key_arrays(ordered);
  p.add(owner_).add(static_cast<std::int64_t>(lease_time_.count()));
  Result<Rows> r = run_query(*pool_, "take lookup leases", "acquire_leases",
                             "INSERT INTO leadenrich.lookup_leases AS l (signal, entity, pipe_id, config_hash, owner,"
                             " expires_at) SELECT s, e, p, c, $5, now() + $6::bigint * interval '1 millisecond'"
                             " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(s, e, p, c)"
                             " ON CONFLICT (signal, entity, pipe_id, config_hash) DO UPDATE"
                             " SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at"
                             " WHERE l.expires_at < now() OR l.owner = EXCLUDED.owner OR NOT " +
                                 fmt::format(kOwnerAlive, "l") + " RETURNING l.signal, l.entity, l.pipe_id, l.config_hash",
                             p);
  if (!r.ok()) return r.status();
  std::set<std::string> held;
  for (int i = 0; i < r->size(); ++i) held.insert(key_text(r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3)));
  std::vector<bool> out;
  out.reserve(keys.size());
  for (const CacheKey& k : keys) out.push_back(held.count(key_text(k)) != 0);
  return out;
}

Status Leases::release(const CacheKey& key) {
  Params p = key_params(key);
  p.add(owner_);
  return run_query(*pool_, "release a lookup lease", "release_lease",
                   "DELETE FROM leadenrich.lookup_leases WHERE signal = $1 AND entity = $2 AND pipe_id = $3"
                   " AND config_hash = $4 AND owner = $5",
                   p)
      .status();
}

Result<bool> Leases::held_elsewhere(const CacheKey& key) {
  Params p = key_params(key);
  p.add(owner_);
  Result<Rows> r = run_query(*pool_, "check a lookup lease", "leased_elsewhere",
                             "SELECT EXISTS (SELECT 1 FROM leadenrich.lookup_leases l WHERE signal = $1 AND entity = $2"
                             " AND pipe_id = $3 AND config_hash = $4 AND owner <> $5 AND expires_at >= now() AND " +
                                 fmt::format(kOwnerAlive, "l") + ")",
                             p);
  if (!r.ok()) return r.status();
  return r->boolean(0, 0);
}

// Every third of the lease time, so a lease outlives two missed renewals.
void Leases::renew_loop() {
  std::unique_lock lock(mu_);
  auto tick = std::max(lease_time_ / 3, std::chrono::milliseconds(1));
  while (!cv_.wait_for(lock, tick, [&] { return stop_; })) {
    lock.unlock();
    ignore_error(run_query(*pool_, "renew lookup leases", "renew_leases",
                           "UPDATE leadenrich.lookup_leases SET expires_at = now() + $2::bigint * interval '1 millisecond'"
                           " WHERE owner = $1",
                           Params().add(owner_).add(static_cast<std::int64_t>(lease_time_.count())))
                     .status(),
                 "a failed renewal is tried again next tick; the lease outlives two misses");
    lock.lock();
  }
}

}  // namespace leadenrich::pg
