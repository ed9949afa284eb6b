// A new PostgreSQL database per fixture on the server LEADENRICH_TEST_POSTGRES names (set by
// scripts/with_postgres.sh): the SharedStoreFixture the conformance suites run PostgreSQL with.
// Without the variable the test fails, naming the script; it never skips.
#ifndef LEADENRICH_TESTS_UNIT_POSTGRESQL_FIXTURE_H_
#define LEADENRICH_TESTS_UNIT_POSTGRESQL_FIXTURE_H_

#include <libpq-fe.h>

#include <cstdlib>
#include <random>
#include <string>

#include <doctest/doctest.h>
#include <fmt/format.h>

#include "leadenrich/postgresql_store.h"
#include "unit/shared_store_fixture.h"

namespace leadenrich::testing {

// The server's URI; the test fails (never skips) without one.
inline std::string server_uri() {
  const char* uri = std::getenv("LEADENRICH_TEST_POSTGRES");
  REQUIRE_MESSAGE(uri != nullptr,
                  "LEADENRICH_TEST_POSTGRES is not set: run this test under scripts/with_postgres.sh (ctest does)");
  return uri;
}

// Runs one statement on the server's maintenance database.
inline void admin(const std::string& sql) {
  PGconn* c = PQconnectdb(server_uri().c_str());
  REQUIRE_MESSAGE(PQstatus(c) == CONNECTION_OK, PQerrorMessage(c));
  PGresult* r = PQexec(c, sql.c_str());
  std::string error = PQresultErrorMessage(r);
  PQclear(r);
  PQfinish(c);
  REQUIRE_MESSAGE(error.empty(), sql, ": ", error);
}

// The server's URI with another database in place of its own.
inline std::string uri_for(const std::string& db) {
  std::string uri = server_uri();
  std::size_t slash = uri.find('/', uri.find("://") + 3);
  std::size_t query = uri.find('?', slash == std::string::npos ? 0 : slash);
  std::string tail = query == std::string::npos ? "" : uri.substr(query);
  return (slash == std::string::npos ? uri : uri.substr(0, slash)) + "/" + db + tail;
}

class PostgresqlFixture : public SharedStoreFixture {
 public:
  PostgresqlFixture() : db_(fmt::format("leadenrich_test_{:08x}{:08x}", std::random_device{}(), std::random_device{}())) {
    admin("CREATE DATABASE " + db_);
  }
  ~PostgresqlFixture() override {
    PGconn* c = PQconnectdb(server_uri().c_str());
    PQclear(PQexec(c, ("DROP DATABASE IF EXISTS " + db_ + " WITH (FORCE)").c_str()));
    PQfinish(c);
  }
  std::shared_ptr<Store> open(std::chrono::milliseconds lease_time = std::chrono::seconds(30)) override {
    PostgresqlStoreOptions o;
    o.conninfo = uri();
    o.lease_time = lease_time;
    Result<std::shared_ptr<Store>> s = open_postgresql_store(o);
    REQUIRE_MESSAGE(s.ok(), s.status().to_string());
    return *s;
  }
  std::string backend() const override { return "postgresql"; }
  std::string uri() const { return uri_for(db_); }
  const std::string& name() const { return db_; }

 private:
  std::string db_;
};

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_POSTGRESQL_FIXTURE_H_
