#include "internal/csv.h"

#include <fmt/format.h>

namespace leadenrich::internal {

CsvReader::CsvReader(std::istream& in, std::size_t max_field_bytes, char delimiter)
    : in_(in), max_field_bytes_(max_field_bytes), buf_(1 << 16), delimiter_(delimiter) {}

char CsvReader::detect_delimiter() {
  // Looks at what the first read buffers (64 KiB), which holds any real header line.
  if (pos_ == len_ && peek() == -1) return delimiter_;
  std::size_t counts[3] = {0, 0, 0};
  const char candidates[3] = {',', ';', '\t'};
  bool quoted = false;
  for (std::size_t i = pos_; i < len_; ++i) {
    char c = buf_[i];
    if (c == '"') quoted = !quoted;  // a doubled quote toggles twice: no change
    if (quoted) continue;
    if (c == '\n' || c == '\r') break;
    for (int k = 0; k < 3; ++k) counts[k] += c == candidates[k] ? 1 : 0;
  }
  int best = 0;
  for (int k = 1; k < 3; ++k) {
    if (counts[k] > counts[best]) best = k;
  }
  delimiter_ = counts[best] > 0 ? candidates[best] : ',';
  return delimiter_;
}

int CsvReader::get() {
  if (pos_ == len_) {
    if (!in_) return -1;
    in_.read(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    len_ = static_cast<std::size_t>(in_.gcount());
    pos_ = 0;
    if (len_ == 0) return -1;
  }
  return static_cast<unsigned char>(buf_[pos_++]);
}

int CsvReader::peek() {
  int c = get();
  if (c != -1) --pos_;
  return c;
}

void CsvReader::skip_to_line_end() {
  for (int c = get(); c != -1; c = get()) {
    if (c == '\n') {
      ++line_;
      return;
    }
    if (c == '\r') {
      if (peek() == '\n') get();
      ++line_;
      return;
    }
  }
}

bool CsvReader::next(CsvRecord& record) {
  record.fields.clear();
  record.error.clear();
  if (first_) {
    first_ = false;
    // A UTF-8 byte order mark is not data.
    if (peek() == 0xEF) {
      get();
      if (peek() == 0xBB) {
        get();
        if (peek() == 0xBF) get();
      }
    }
  }
  if (peek() == -1) return false;
  record.line = line_;
  std::string field;
  bool quoted = false;       // inside a quoted field
  bool was_quoted = false;   // the current field began with a quote
  std::size_t quote_line = line_;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    was_quoted = false;
  };
  while (true) {
    int c = get();
    if (c == -1) {
      if (quoted) {
        record.error = fmt::format("unterminated quoted field starting at line {}", quote_line);
      }
      end_field();
      return true;
    }
    if (field.size() >= max_field_bytes_) {
      record.error = fmt::format("a field is longer than {} bytes", max_field_bytes_);
      if (c != '\n' && c != '\r') skip_to_line_end();
      else line_ += 1;
      record.fields.clear();
      return true;
    }
    if (quoted) {
      if (c == '"') {
        if (peek() == '"') {
          get();
          field.push_back('"');
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        if (c == '\r' && peek() != '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == delimiter_) {
      end_field();
      continue;
    }
    switch (c) {
      case '\r':
        if (peek() == '\n') get();
        [[fallthrough]];
      case '\n':
        ++line_;
        end_field();
        return true;
      case '"':
        if (field.empty() && !was_quoted) {
          quoted = was_quoted = true;
          quote_line = line_;
        } else {
          field.push_back('"');  // a stray quote in unquoted text is kept as text
        }
        break;
      default:
        field.push_back(static_cast<char>(c));
    }
  }
}

}  // namespace leadenrich::internal
