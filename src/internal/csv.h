// RFC 4180 CSV reading, streamed record by record with line numbers for messages.
#ifndef LEADENRICH_INTERNAL_CSV_H_
#define LEADENRICH_INTERNAL_CSV_H_

#include <cstddef>
#include <istream>
#include <string>
#include <vector>

namespace leadenrich::internal {

struct CsvRecord {
  std::vector<std::string> fields;
  std::size_t line = 0;  ///< 1-based line where the record starts
  std::string error;     ///< non-empty when the record is unusable
};

/// Reads records from a stream. Lenient where files in the wild are sloppy (a stray quote
/// inside an unquoted field is kept as a character; lone CR ends a line), strict where data
/// would be lost (an unterminated quote or an oversized field makes the record an error, and
/// reading resumes at the next line). Not thread-safe.
class CsvReader {
 public:
  CsvReader(std::istream& in, std::size_t max_field_bytes, char delimiter = ',');
  /// Fills `record` with the next record; false at the end of input.
  bool next(CsvRecord& record);

  /// Before the first next(): the delimiter of the first line — the most frequent of `,` `;`
  /// and tab outside quotes, `,` on a tie or when there is none. Excel writes `;` where the
  /// decimal separator is a comma, and "text" exports are tab-separated.
  char detect_delimiter();
  void set_delimiter(char delimiter) { delimiter_ = delimiter; }

 private:
  int get();   // next byte or -1
  int peek();
  void skip_to_line_end();

  std::istream& in_;
  std::size_t max_field_bytes_;
  std::vector<char> buf_;
  std::size_t pos_ = 0;
  std::size_t len_ = 0;
  std::size_t line_ = 1;
  bool first_ = true;
  char delimiter_ = ',';
};

}  // namespace leadenrich::internal

#endif  // LEADENRICH_INTERNAL_CSV_H_
