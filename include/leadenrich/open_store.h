// Opening a store by name, as the CLI, the server and Python take it: a PostgreSQL URI or a
// SQLite file path.
#ifndef LEADENRICH_OPEN_STORE_H_
#define LEADENRICH_OPEN_STORE_H_

#include <memory>
#include <string>

#include "leadenrich/status.h"
#include "leadenrich/store.h"

namespace leadenrich {

/// postgresql://... or postgres://... opens a PostgreSQL store (open_postgresql_store); anything
/// else is a SQLite file path (":memory:" for a store that lives as long as the object).
Result<std::shared_ptr<Store>> open_store(const std::string& uri_or_path);

/// Whether `uri_or_path` names a PostgreSQL store.
bool is_postgresql_uri(const std::string& uri_or_path);

/// The store's name as messages show it: a URI's password becomes ***
/// (postgresql://user:***@host/db); a path is shown as it is.
std::string store_display_name(const std::string& uri_or_path);

}  // namespace leadenrich

#endif  // LEADENRICH_OPEN_STORE_H_
