// Writers' helpers: one CSV record appended to a buffer.
// Not installed: declarations that used to be public keep the leadenrich namespace, so callers
// only change their #include. Unit tests may include this header.
#ifndef LEADENRICH_INTERNAL_CSV_WRITE_H_
#define LEADENRICH_INTERNAL_CSV_WRITE_H_

#include <string>
#include <vector>

namespace leadenrich {

/// Appends one RFC 4180 record (cells quoted when needed, CRLF line end).
void append_csv_record(std::string& out, const std::vector<std::string>& cells);

}  // namespace leadenrich

#endif  // LEADENRICH_INTERNAL_CSV_WRITE_H_
