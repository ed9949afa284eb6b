#include "postgresql/pg_connection.h"

#include <charconv>
#include <utility>

#include <fmt/format.h>

#include "leadenrich/store.h"

namespace leadenrich::pg {
namespace {

// libpq's messages span lines ("connection to server ... failed: ...\n\tIs the server running");
// a store error is one line.
std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

// SQLSTATE classes that mean "the server, not the query": try again later.
StatusCode code_for(std::string_view sqlstate) {
  if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("53", 0) == 0 || sqlstate.rfind("57P", 0) == 0 ||
      sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return StatusCode::kUnavailable;
  }
  if (sqlstate == "42501" || sqlstate.rfind("28", 0) == 0) return StatusCode::kPermissionDenied;
  return StatusCode::kInternal;
}

// Replaces what follows "password=" in a key=value conninfo or a URI's query.
std::string mask_password_params(std::string s) {
  std::size_t at = 0;
  while ((at = s.find("password=", at)) != std::string::npos) {
    std::size_t start = at + 9;
    std::size_t end = start;
    if (end < s.size() && s[end] == '\'') {
      ++end;
      while (end < s.size() && s[end] != '\'') end += (s[end] == '\\') ? 2 : 1;
      end = std::min(end + 1, s.size());
    } else {
      while (end < s.size() && s[end] != ' ' && s[end] != '&') ++end;
    }
    s.replace(start, end - start, "***");
    at = start + 3;
  }
  return s;
}

std::string array_literal(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
  return out;
}

// The password in a URI's user info or a password= setting, or "".
std::string password_of(const std::string& conninfo) {
  std::string masked = display_conninfo(conninfo);
  // Where the masked text says ***, the original holds the password: the text up to the next
  // character both share after it.
  std::size_t star = masked.find("***");
  if (star == std::string::npos) return "";
  std::string after = masked.substr(star + 3);
  std::size_t end = after.empty() ? conninfo.size() : conninfo.find(after, star);
  return end == std::string::npos || end < star ? "" : conninfo.substr(star, end - star);
}

// libpq may quote the conninfo it could not parse: never let the password through.
std::string scrub(std::string detail, const std::string& conninfo) {
  std::string password = password_of(conninfo);
  if (password.empty()) return detail;
  for (std::size_t at = 0; (at = detail.find(password, at)) != std::string::npos; at += 3) detail.replace(at, password.size(), "***");
  return detail;
}

}  // namespace

std::int64_t Rows::integer(int row, int col) const {
  std::string t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

Params& Params::add_array(const std::vector<std::string>& items) { return add(array_literal(items)); }

Params& Params::add_array(const std::vector<std::int64_t>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) out += (i > 0 ? "," : "") + std::to_string(items[i]);
  return add(out + "}");
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> p;
  p.reserve(values_.size());
  for (const std::string& v : values_) p.push_back(v.c_str());
  return p;
}

std::string display_conninfo(const std::string& conninfo) {
  std::size_t scheme = conninfo.find("://");
  if (scheme == std::string::npos) return mask_password_params(conninfo);
  std::size_t start = scheme + 3;
  std::size_t end = conninfo.find_first_of("/?", start);
  if (end == std::string::npos) end = conninfo.size();
  std::string out = conninfo;
  std::size_t at = conninfo.rfind('@', end);
  if (at != std::string::npos && at >= start) {
    std::size_t colon = conninfo.find(':', start);
    if (colon != std::string::npos && colon < at) out = conninfo.substr(0, colon + 1) + "***" + conninfo.substr(at);
  }
  return mask_password_params(out);
}

Status store_status(StatusCode code, const std::string& display, std::string_view what, std::string_view detail) {
  return Status(code, fmt::format("store {}: {}: {}", display, what, detail)).with_provider(std::string(kStoreProvider));
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo, const std::string& display) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (options == nullptr) {
    std::string why = parse_error != nullptr ? scrub(one_line(parse_error), conninfo) : "out of memory";
    PQfreemem(parse_error);
    return store_status(StatusCode::kInvalidArgument, display, "not a PostgreSQL URI",
                        why + " (expected postgresql://user@host:port/database)");
  }
  PQconninfoFree(options);
  // Defaults the URI may override (later settings win): a host that drops packets fails in 10 s
  // rather than the system's TCP timeout, and sessions are named in pg_stat_activity.
  const char* keys[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "leadenrich", conninfo.c_str(), nullptr};
  ConnPtr conn(PQconnectdbParams(keys, values, /*expand_dbname=*/1));
  if (conn == nullptr || PQstatus(conn.get()) != CONNECTION_OK) {
    std::string why = conn != nullptr ? scrub(one_line(PQerrorMessage(conn.get())), conninfo) : "out of memory";
    return store_status(StatusCode::kUnavailable, display, "cannot connect",
                        why + ": check that the server is running and the URI's host, port, database and user");
  }
  // Notices ("relation already exists, skipping") are for people at a psql prompt, not a CLI's stderr.
  PQsetNoticeProcessor(conn.get(), [](void*, const char*) {}, nullptr);
  // Text crosses as UTF-8 whatever the server's default client encoding.
  if (PQsetClientEncoding(conn.get(), "UTF8") != 0) {
    return store_status(StatusCode::kUnavailable, display, "cannot connect",
                        "the server refused client_encoding UTF8: " + scrub(one_line(PQerrorMessage(conn.get())), conninfo));
  }
  return std::make_unique<Connection>(std::move(conn), display);
}

Status Connection::error(std::string_view what, const PGresult* r) const {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_sqlstate_ = state != nullptr ? state : "";
  std::string detail = one_line(r != nullptr && *PQresultErrorMessage(r) != '\0' ? PQresultErrorMessage(r)
                                                                                 : PQerrorMessage(conn_.get()));
  StatusCode code = broken() || state == nullptr ? StatusCode::kUnavailable : code_for(state);
  if (detail.empty()) detail = "the server closed the connection";
  return store_status(code, display_, what, detail);
}

Result<Rows> Connection::query(std::string_view what, const std::string& sql, const Params& params, const char* name) {
  last_sqlstate_.clear();
  std::vector<const char*> values = params.pointers();
  int n = static_cast<int>(values.size());
  PGresult* r = nullptr;
  if (name != nullptr) {
    if (prepared_.count(name) == 0) {
      Rows prepared(PQprepare(conn_.get(), name, sql.c_str(), n, nullptr));
      if (PQresultStatus(prepared.raw()) != PGRES_COMMAND_OK) return error(what, prepared.raw());
      prepared_.insert(name);
    }
    r = PQexecPrepared(conn_.get(), name, n, values.data(), nullptr, nullptr, 0);
  } else {
    r = PQexecParams(conn_.get(), sql.c_str(), n, nullptr, values.data(), nullptr, nullptr, 0);
  }
  Rows rows(r);
  ExecStatusType st = PQresultStatus(r);
  if (r == nullptr || (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)) return error(what, r);
  return rows;
}

Status Connection::exec(std::string_view what, const std::string& sql) {
  last_sqlstate_.clear();
  Rows rows(PQexec(conn_.get(), sql.c_str()));
  ExecStatusType st = PQresultStatus(rows.raw());
  if (rows.raw() == nullptr || (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)) return error(what, rows.raw());
  return {};
}

void Connection::rollback() {
  if (!broken()) ignore_error(exec("rollback", "ROLLBACK"), "the error that made the transaction fail is reported");
}

Pool::Pool(std::string conninfo, std::size_t size)
    : conninfo_(std::move(conninfo)), display_(display_conninfo(conninfo_)), size_(size == 0 ? 1 : size) {}

Pool::~Pool() = default;

Result<std::unique_ptr<Connection>> Pool::take() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !idle_.empty() || open_ < size_; });
  if (!idle_.empty()) {
    std::unique_ptr<Connection> c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;  // reserve the slot; connect without holding the lock
  lock.unlock();
  Result<std::unique_ptr<Connection>> c = Connection::open(conninfo_, display_);
  if (!c.ok()) {
    lock.lock();
    --open_;
    cv_.notify_one();
  }
  return c;
}

void Pool::give_back(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (c != nullptr && !c->broken()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  cv_.notify_one();
}

Status Pool::run(const std::function<Status(Connection&)>& fn) {
  Result<std::unique_ptr<Connection>> c = take();
  if (!c.ok()) return c.status();
  std::unique_ptr<Connection> conn = std::move(c).value();
  Status st = fn(*conn);
  for (int again = 0; again < 3 && !st.ok() && !conn->broken() && conn->conflicted(); ++again) st = fn(*conn);
  if (!st.ok() && conn->broken()) {
    // The server restarted or dropped us: one new connection, one more try.
    give_back(nullptr);
    c = take();
    if (!c.ok()) return c.status();
    conn = std::move(c).value();
    st = fn(*conn);
  }
  give_back(std::move(conn));
  return st;
}

Result<Rows> run_query(Pool& pool, std::string_view what, const char* name, const std::string& sql, const Params& params) {
  std::optional<Rows> out;
  Status st = pool.run([&](Connection& c) -> Status {
    Result<Rows> r = c.query(what, sql, params, name);
    if (!r.ok()) return r.status();
    out.emplace(std::move(r).value());
    return {};
  });
  if (!st.ok()) return st;
  return std::move(*out);
}

}  // namespace leadenrich::pg
