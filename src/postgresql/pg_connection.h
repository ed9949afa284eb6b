// libpq behind RAII handles and a connection pool: every query parameterised (PQexecParams, or
// PQexecPrepared for the named statements a store runs over and over), errors as Status with
// provider kStoreProvider naming the server (never its password), and a broken connection
// reconnected once before the error reaches the caller.
#ifndef LEADENRICH_SRC_POSTGRESQL_PG_CONNECTION_H_
#define LEADENRICH_SRC_POSTGRESQL_PG_CONNECTION_H_

#include <libpq-fe.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "leadenrich/status.h"

namespace leadenrich::pg {

struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

/// A query's rows; text format, so every value is read as a string.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  int size() const { return PQntuples(r_.get()); }
  bool empty() const { return size() == 0; }
  bool null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
  }
  std::int64_t integer(int row, int col) const;
  bool boolean(int row, int col) const { return text(row, col) == "t"; }
  const PGresult* raw() const { return r_.get(); }

 private:
  std::unique_ptr<PGresult, ResultDeleter> r_;
};

/// A statement's parameters, as text (PostgreSQL casts them: "$1::bigint", "$2::text[]").
class Params {
 public:
  Params& add(std::string v) {
    values_.push_back(std::move(v));
    return *this;
  }
  Params& add(std::int64_t v) { return add(std::to_string(v)); }
  /// A text[] literal of `items` ({"a","b"}), for unnest(): a whole batch in one statement.
  Params& add_array(const std::vector<std::string>& items);
  Params& add_array(const std::vector<std::int64_t>& items);
  std::size_t size() const { return values_.size(); }
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
};

/// The URI or conninfo as messages show it: a password becomes ***.
std::string display_conninfo(const std::string& conninfo);

/// One connection. Not thread-safe: the pool hands it to one thread at a time.
class Connection {
 public:
  Connection(ConnPtr conn, std::string display) : conn_(std::move(conn)), display_(std::move(display)) {}
  /// Connects; kUnavailable naming the server when it cannot.
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo, const std::string& display);

  /// Runs `sql` with `params`. With a `name`, the statement is prepared on this connection the
  /// first time and executed by name after.
  Result<Rows> query(std::string_view what, const std::string& sql, const Params& params = {},
                     const char* name = nullptr);
  /// Several statements without parameters (migrations, BEGIN, COMMIT).
  Status exec(std::string_view what, const std::string& sql);
  /// Ends a failed transaction; the error that made it fail is the one reported.
  void rollback();
  /// Whether the server connection is gone (a restart, a dropped socket).
  bool broken() const { return PQstatus(conn_.get()) != CONNECTION_OK; }
  /// Whether the last statement failed on a deadlock or a serialization conflict with another
  /// session: rolled back whole, and worth running again.
  bool conflicted() const { return last_sqlstate_ == "40P01" || last_sqlstate_ == "40001"; }
  const std::string& display() const { return display_; }

 private:
  Status error(std::string_view what, const PGresult* r) const;

  ConnPtr conn_;
  std::string display_;
  std::unordered_set<std::string> prepared_;
  mutable std::string last_sqlstate_;  ///< of the last failed statement; empty after a success
};

/// A fixed number of connections shared by the store's threads; a thread waits for a free one.
class Pool {
 public:
  Pool(std::string conninfo, std::size_t size);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Runs `fn` on a connection. When the connection turns out broken (the call failed with the
  /// server gone), reconnects and runs `fn` once more: a restarted server costs no error. A
  /// deadlock with another session (two batches locking shared rows in different orders) is run
  /// again up to 3 times. `fn` must be safe to run again: what it began was rolled back.
  Status run(const std::function<Status(Connection&)>& fn);
  /// A connection of its own, outside the pool (for session advisory locks).
  Result<std::unique_ptr<Connection>> dedicated() const { return Connection::open(conninfo_, display_); }
  const std::string& display() const { return display_; }

 private:
  Result<std::unique_ptr<Connection>> take();
  void give_back(std::unique_ptr<Connection> c);

  std::string conninfo_;
  std::string display_;
  std::size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  ///< connections made and not closed, idle or in use
};

/// Runs one statement on a pool connection (Pool::run: reconnecting, retrying a deadlock).
Result<Rows> run_query(Pool& pool, std::string_view what, const char* name, const std::string& sql,
                       const Params& params = {});

/// An error of the store named by `display`: provider kStoreProvider.
Status store_status(StatusCode code, const std::string& display, std::string_view what, std::string_view detail);

}  // namespace leadenrich::pg

#endif  // LEADENRICH_SRC_POSTGRESQL_PG_CONNECTION_H_
