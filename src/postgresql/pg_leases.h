// Lookup leases on PostgreSQL (store.h, "single flight across processes"): table lookup_leases,
// one owner per store object, expiry on the server's clock, renewed in the background. An owner
// also holds a session advisory lock on a connection of its own while it lives: when its process
// dies the server drops the lock, and its leases are taken at once instead of after the lease time.
#ifndef LEADENRICH_SRC_POSTGRESQL_PG_LEASES_H_
#define LEADENRICH_SRC_POSTGRESQL_PG_LEASES_H_

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "leadenrich/store.h"
#include "postgresql/pg_connection.h"

namespace leadenrich::pg {

/// The key columns of `keys` as four text[] parameters ($1..$4), in the order given.
Params key_arrays(const std::vector<const CacheKey*>& keys);

class Leases {
 public:
  /// Starts the renewal thread: every lease_time / 3, this owner's leases get lease_time more.
  Leases(std::shared_ptr<Pool> pool, std::chrono::milliseconds lease_time);
  /// Stops renewing (promptly: the thread waits on a condition, not a sleep). The leases stay
  /// until they expire, as a killed process's would: that expiry is what others wait for.
  ~Leases();
  Leases(const Leases&) = delete;
  Leases& operator=(const Leases&) = delete;

  Result<std::vector<bool>> acquire(const std::vector<CacheKey>& keys);
  Status release(const CacheKey& key);
  Result<bool> held_elsewhere(const CacheKey& key);

 private:
  void renew_loop();
  /// Takes (again, after the connection dropped) the advisory lock that says this owner lives.
  Status ensure_alive();

  std::shared_ptr<Pool> pool_;
  std::string owner_;
  std::chrono::milliseconds lease_time_;
  std::mutex alive_mu_;
  std::unique_ptr<Connection> alive_;  ///< holds pg_advisory_lock(kOwnerLockSpace, hashtext(owner_))
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread renewer_;
};

}  // namespace leadenrich::pg

#endif  // LEADENRICH_SRC_POSTGRESQL_PG_LEASES_H_
