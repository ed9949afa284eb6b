// Prepared SQLite statements for one connection, and one use of one: shared by the SQLite store
// and its work queue, which use the same connection under the same mutex.
#ifndef LEADENRICH_INTERNAL_SQLITE_STATEMENT_H_
#define LEADENRICH_INTERNAL_SQLITE_STATEMENT_H_

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace leadenrich::internal {

// Prepared statements, kept for the connection's life: preparing is most of the cost of a
// cache read, and a run makes several per lead. Not thread-safe (the store's mutex guards it).
class PreparedStatements {
 public:
  explicit PreparedStatements(sqlite3* db) : db_(db) {}
  ~PreparedStatements() { clear(); }
  PreparedStatements(const PreparedStatements&) = delete;
  PreparedStatements& operator=(const PreparedStatements&) = delete;

  void clear() {
    for (auto& [sql, stmt] : stmts_) sqlite3_finalize(stmt);
    stmts_.clear();
  }

  // The statement for `sql`, prepared once; null with `rc` set when it cannot be prepared.
  sqlite3_stmt* get(const char* sql, int& rc) {
    auto it = stmts_.find(std::string_view(sql));  // no string built per call
    if (it != stmts_.end()) {
      rc = SQLITE_OK;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return nullptr;
    }
    stmts_.emplace(sql, stmt);
    return stmt;
  }

 private:
  sqlite3* db_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> stmts_;
};

// One use of a prepared statement: reset and unbound again when it goes out of scope.
class Statement {
 public:
  Statement(PreparedStatements& prepared, const char* sql) { stmt_ = prepared.get(sql, rc_); }
  ~Statement() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  bool ok() const { return rc_ == SQLITE_OK; }
  int rc() const { return rc_; }
  Statement& bind(int i, std::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  int step() { return stmt_ != nullptr ? sqlite3_step(stmt_) : rc_; }
  std::string text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_SQLITE_STATEMENT_H_
