// A store by name: a PostgreSQL URI or a SQLite path.
#include "leadenrich/open_store.h"

#include "leadenrich/postgresql_store.h"
#include "leadenrich/sqlite_store.h"
#include "postgresql/pg_connection.h"

namespace leadenrich {

bool is_postgresql_uri(const std::string& uri_or_path) {
  return uri_or_path.rfind("postgresql://", 0) == 0 || uri_or_path.rfind("postgres://", 0) == 0;
}

Result<std::shared_ptr<Store>> open_store(const std::string& uri_or_path) {
  if (is_postgresql_uri(uri_or_path)) {
    PostgresqlStoreOptions options;
    options.conninfo = uri_or_path;
    return open_postgresql_store(options);
  }
  SqliteStoreOptions options;
  options.path = uri_or_path;
  return open_sqlite_store(options);
}

std::string store_display_name(const std::string& uri_or_path) {
  return is_postgresql_uri(uri_or_path) ? pg::display_conninfo(uri_or_path) : uri_or_path;
}

}  // namespace leadenrich
