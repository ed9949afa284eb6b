#include "leadenrich/output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <streambuf>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <ostream>

#include <fmt/format.h>

namespace leadenrich {
namespace {

std::string cell_of(const Json& v) {
  switch (v.type()) {
    case Json::Type::kNull: return "";
    case Json::Type::kString: return v.as_string();
    case Json::Type::kNumber: return v.number_text();
    default: return v.dump();
  }
}

std::string number_cell(const std::optional<double>& d) { return d ? Json(*d).dump() : ""; }

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += "; ";
    out += s;
  }
  return out;
}

std::string signal_names(const std::vector<Signal>& signals) {
  std::vector<std::string> names;
  for (Signal s : signals) names.emplace_back(to_string(s));
  return join(names);
}

class JsonLinesWriter : public LeadWriter {
 public:
  explicit JsonLinesWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    line_.clear();
    to_json(lead).dump_to(line_);
    line_.push_back('\n');
    out_.write(line_.data(), static_cast<std::streamsize>(line_.size()));
    out_.flush();  // a consumer of the stream sees each lead as it is done
    return out_ ? Status() : unavailable("writing JSON lines failed");
  }
  Status finish() override {
    out_.flush();
    return out_ ? Status() : unavailable("writing JSON lines failed");
  }

 private:
  std::ostream& out_;
  std::string line_;
};

class JsonArrayWriter : public LeadWriter {
 public:
  explicit JsonArrayWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    buf_ = first_ ? "[\n" : ",\n";
    first_ = false;
    to_json(lead).dump_to(buf_);
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    return out_ ? Status() : unavailable("writing JSON failed");
  }
  Status finish() override {
    out_ << (first_ ? "[]\n" : "\n]\n");
    first_ = false;
    out_.flush();
    return out_ ? Status() : unavailable("writing JSON failed");
  }

 private:
  std::ostream& out_;
  std::string buf_;
  bool first_ = true;
};

class CsvWriter : public LeadWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {}
  Status write(const EnrichedLead& lead) override {
    buf_.clear();
    if (!header_written_) {
      std::vector<std::string> header(csv_columns().begin(), csv_columns().end());
      append_csv_record(buf_, header);
      header_written_ = true;
    }
    append_csv_record(buf_, csv_cells(lead));
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    return out_ ? Status() : unavailable("writing CSV failed");
  }
  Status finish() override {
    if (!header_written_) {
      buf_.clear();
      append_csv_record(buf_, std::vector<std::string>(csv_columns().begin(), csv_columns().end()));
      out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
      header_written_ = true;
    }
    out_.flush();
    return out_ ? Status() : unavailable("writing CSV failed");
  }

 private:
  std::ostream& out_;
  std::string buf_;
  bool header_written_ = false;
};

}  // namespace

std::string_view to_string(OutputFormat f) {
  switch (f) {
    case OutputFormat::kJson: return "json";
    case OutputFormat::kJsonl: return "jsonl";
    case OutputFormat::kCsv: return "csv";
  }
  return "json";
}

std::string_view extension(OutputFormat f) { return to_string(f); }

std::unique_ptr<LeadWriter> make_writer(OutputFormat format, std::ostream& out) {
  switch (format) {
    case OutputFormat::kJson: return std::make_unique<JsonArrayWriter>(out);
    case OutputFormat::kJsonl: return std::make_unique<JsonLinesWriter>(out);
    case OutputFormat::kCsv: return std::make_unique<CsvWriter>(out);
  }
  return nullptr;
}

const std::vector<std::string_view>& csv_columns() {
  static const std::vector<std::string_view> kColumns = {
      "lead_id", "name", "email", "phone", "organization", "designation", "linkedin_url", "website",
      "campaign_id", "campaign_name", "company_key", "person_key", "quality_score", "signals_found",
      "signals_missed", "enriched_at", "sandbox", "company_overview_status", "tech_stack_status",
      "funding_status", "news_status", "linkedin_posts_status", "reasons", "company_description",
      "company_industry", "company_region", "headcount", "headcount_min", "headcount_max", "founded_year",
      "estimated_revenue", "technologies", "funding_total_usd", "funding_rounds", "news_summary",
      "linkedin_posts", "latest_post_at"};
  return kColumns;
}

std::vector<std::string> csv_cells(const EnrichedLead& e) {
  const RawLead& l = e.lead;
  std::vector<std::string> c;
  c.reserve(csv_columns().size());
  auto opt = [](const std::optional<std::string>& s) { return s.value_or(""); };
  c.push_back(l.lead_id);
  c.push_back(opt(l.name));
  c.push_back(opt(l.email));
  c.push_back(opt(l.phone));
  c.push_back(opt(l.organization));
  c.push_back(opt(l.designation));
  c.push_back(opt(l.linkedin_url));
  c.push_back(opt(l.website));
  c.push_back(opt(l.campaign_id));
  c.push_back(opt(l.campaign_name));
  c.push_back(opt(e.company_key));
  c.push_back(opt(e.person_key));
  c.push_back(std::to_string(e.quality_score));
  c.push_back(signal_names(e.signals_found));
  c.push_back(signal_names(e.signals_missed));
  c.push_back(e.enriched_at ? format_timestamp(*e.enriched_at) : "");
  c.push_back(e.sandbox ? "true" : "false");
  std::vector<std::string> reasons;
  for (Signal s : kAllSignals) {
    const SignalResult& r = e.result(s);
    c.emplace_back(to_string(r.status));
    if (r.reason) reasons.push_back(fmt::format("{}: {}", to_string(s), r.reason->message));
  }
  c.push_back(join(reasons));
  if (const auto& o = e.company_overview) {
    c.push_back(opt(o->description));
    c.push_back(opt(o->industry));
    c.push_back(opt(o->region));
    c.push_back(cell_of(o->headcount));
    c.push_back(o->headcount_range ? Json(o->headcount_range->min).dump() : "");
    c.push_back(o->headcount_range ? number_cell(o->headcount_range->max) : "");
    c.push_back(o->founded_year_number ? std::to_string(*o->founded_year_number) : cell_of(o->founded_year));
    c.push_back(cell_of(o->estimated_revenue));
  } else {
    c.insert(c.end(), 8, "");
  }
  std::vector<std::string> tech;
  if (e.tech_stack) {
    for (const Technology& t : e.tech_stack->technologies) tech.push_back(t.name);
  }
  c.push_back(join(tech));
  if (e.funding) {
    c.push_back(number_cell(e.funding->total_usd));
    c.push_back(signal_value_to_json(e, Signal::kFunding).find("rounds")->dump());
  } else {
    c.insert(c.end(), 2, "");
  }
  c.push_back(e.news ? e.news->summary : "");
  std::vector<std::string> posts;
  std::string latest;
  if (e.linkedin_posts) {
    for (const LinkedInPost& p : e.linkedin_posts->posts) {
      posts.push_back(p.text);
      if (p.posted_at && *p.posted_at > latest) latest = *p.posted_at;
    }
  }
  c.push_back(join(posts));
  c.push_back(latest);
  return c;
}

void append_csv_record(std::string& out, const std::vector<std::string>& cells) {
  bool first = true;
  for (const std::string& cell : cells) {
    if (!first) out.push_back(',');
    first = false;
    bool quote = cell.find_first_of(",\"\r\n") != std::string::npos ||
                 (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
    if (!quote) {
      out += cell;
      continue;
    }
    out.push_back('"');
    for (char ch : cell) {
      if (ch == '"') out.push_back('"');
      out.push_back(ch);
    }
    out.push_back('"');
  }
  out += "\r\n";
}

// ---- AtomicFile ----

namespace {

// A stream buffer over a file descriptor that keeps the first write error's errno: an ofstream
// only says that writing failed, and a person needs to know why (disk full, broken pipe).
class FdBuf : public std::streambuf {
 public:
  explicit FdBuf(int fd) : fd_(fd), buf_(1 << 16) { setp(buf_.data(), buf_.data() + buf_.size()); }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0 && error_ == 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno != EINTR) error_ = errno;
        continue;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    setp(buf_.data(), buf_.data() + buf_.size());  // after an error, what follows is dropped
    return error_ == 0;
  }

  int fd_;
  std::vector<char> buf_;
  int error_ = 0;
};

// Temporary files of runs that were killed: "<name>.tmp-<pid>" whose process is gone.
void remove_stale_temps(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir.empty() ? std::filesystem::path(".") : dir, ec);
  if (ec) return;
  for (const auto& entry : it) {
    std::string name = entry.path().filename().string();
    std::size_t at = name.rfind(".tmp-");
    if (at == std::string::npos || at == 0 || at + 5 == name.size()) continue;
    std::string digits = name.substr(at + 5);
    if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    pid_t pid = static_cast<pid_t>(std::stol(digits));
    if (pid <= 0 || pid == ::getpid()) continue;
    if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask about)
    if (entry.is_regular_file(ec)) std::filesystem::remove(entry.path(), ec);
  }
}

}  // namespace

struct AtomicFile::Impl {
  Impl(int fd, bool owns) : fd(fd), owns_fd(owns), buf(fd), out(&buf) {}
  int fd;
  bool owns_fd;
  FdBuf buf;
  std::ostream out;
};

AtomicFile::AtomicFile(std::string path, std::string temp_path, int fd, bool owns_fd)
    : impl_(std::make_unique<Impl>(fd, owns_fd)), path_(std::move(path)), temp_path_(std::move(temp_path)) {}

Result<std::unique_ptr<AtomicFile>> AtomicFile::create(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  // A symlink is followed to the file it names: the link stays, its target gets the content.
  fs::path target = path;
  if (fs::is_symlink(fs::symlink_status(target, ec))) {
    target = fs::weakly_canonical(target, ec);
    if (ec) return unavailable(fmt::format("{}: cannot follow the link: {}", path, ec.message()));
  }
  fs::file_status status = fs::status(target, ec);
  if (fs::is_directory(status)) return unavailable(fmt::format("{}: is a directory", path));
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    // /dev/null, a FIFO, a terminal: written in place, never replaced by a regular file.
    int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return unavailable(fmt::format("{}: cannot write: {}", path, std::strerror(errno)));
    return std::unique_ptr<AtomicFile>(new AtomicFile(path, "", fd, true));
  }
  fs::path parent = target.parent_path();
  ec.clear();
  if (!parent.empty()) fs::create_directories(parent, ec);
  if (ec) return unavailable(fmt::format("{}: cannot create the directory: {}", parent.string(), ec.message()));
  remove_stale_temps(parent);
  std::string temp = fmt::format("{}.tmp-{}", target.string(), ::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) return unavailable(fmt::format("{}: cannot write: {}", temp, std::strerror(errno)));
  struct stat existing {};
  if (::stat(target.c_str(), &existing) == 0) (void)::fchmod(fd, existing.st_mode & 07777);  // keep its mode
  std::unique_ptr<AtomicFile> file(new AtomicFile(path, temp, fd, true));
  file->target_ = target.string();
  return file;
}

std::unique_ptr<AtomicFile> AtomicFile::standard_output() {
  return std::unique_ptr<AtomicFile>(new AtomicFile("stdout", "", STDOUT_FILENO, false));
}

AtomicFile::~AtomicFile() {
  if (!committed_) impl_->out.flush();
  if (impl_->owns_fd) ::close(impl_->fd);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

std::ostream& AtomicFile::stream() { return impl_->out; }

Status AtomicFile::write_status() const {
  if (impl_->buf.error() == 0) return {};
  return unavailable(fmt::format("{}: {}", path_, std::strerror(impl_->buf.error())));
}

Status AtomicFile::commit() {
  if (committed_) return {};
  impl_->out.flush();
  LEADENRICH_RETURN_IF_ERROR(write_status());
  if (!temp_path_.empty()) {
    if (::fsync(impl_->fd) != 0) return unavailable(fmt::format("{}: {}", path_, std::strerror(errno)));
    if (std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
      return unavailable(fmt::format("{}: cannot rename into place: {}", path_, std::strerror(errno)));
    }
  }
  committed_ = true;
  return {};
}

}  // namespace leadenrich
