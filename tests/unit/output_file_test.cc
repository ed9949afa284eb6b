// Output files: a regular file is replaced atomically, anything else is written in place, a
// symlink is followed, leftovers of killed runs are removed, and write errors keep their reason.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include <doctest/doctest.h>

#include "leadenrich/output.h"
#include "unit/temp_dir.h"

using namespace leadenrich;
namespace fs = std::filesystem;

namespace {

using testing::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t dead_pid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  return child;
}

}  // namespace

TEST_CASE("a symlink is followed: its target gets the content and the link stays a link") {
  TempDir dir;
  fs::create_directories(dir.path / "real");
  {
    std::ofstream(dir.path / "real" / "out.json") << "old";
  }
  fs::create_symlink("real/out.json", dir.path / "latest.json");
  auto f = AtomicFile::create((dir.path / "latest.json").string());
  REQUIRE(f.ok());
  (*f)->stream() << "new";
  REQUIRE((*f)->commit().ok());
  CHECK(fs::is_symlink(dir.path / "latest.json"));
  CHECK(slurp(dir.path / "real" / "out.json") == "new");
}

TEST_CASE("a FIFO is written in place, never replaced") {
  TempDir dir;
  fs::path fifo = dir.path / "out.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto reader = std::async(std::launch::async, [&] { return slurp(fifo); });
  auto f = AtomicFile::create(fifo.string());
  REQUIRE(f.ok());
  (*f)->stream() << "streamed";
  REQUIRE((*f)->commit().ok());
  f->reset();  // closes: the reader sees the end
  CHECK(reader.get() == "streamed");
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a replaced file keeps its mode") {
  TempDir dir;
  fs::path p = dir.path / "out.csv";
  {
    std::ofstream(p) << "old";
  }
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
  auto f = AtomicFile::create(p.string());
  REQUIRE(f.ok());
  (*f)->stream() << "new";
  REQUIRE((*f)->commit().ok());
  CHECK((fs::status(p).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
}

TEST_CASE("temporary files of dead processes are removed; a live process's and other files are kept") {
  TempDir dir;
  fs::path stale = dir.path / ("out.json.tmp-" + std::to_string(dead_pid()));
  fs::path live = dir.path / ("out.json.tmp-" + std::to_string(::getppid()));
  fs::path mine = dir.path / "notes.tmp-backup";
  for (const fs::path& p : {stale, live, mine}) std::ofstream(p) << "x";
  auto f = AtomicFile::create((dir.path / "out.json").string());
  REQUIRE(f.ok());
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
  CHECK(fs::exists(mine));
}

TEST_CASE("a directory is refused with its name") {
  TempDir dir;
  auto f = AtomicFile::create(dir.path.string());
  REQUIRE_FALSE(f.ok());
  CHECK(f.status().message() == dir.path.string() + ": is a directory");
}

TEST_CASE("a write error keeps the system's reason") {
  if (::geteuid() != 0) return;  // a device node of our own needs root
  TempDir dir;
  fs::path full = dir.path / "full";
  REQUIRE(::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) == 0);  // like /dev/full
  auto f = AtomicFile::create(full.string());
  REQUIRE(f.ok());
  (*f)->stream() << std::string(1 << 17, 'x');
  Status st = (*f)->commit();
  CHECK(st.message() == full.string() + ": No space left on device");
  CHECK((*f)->write_status().message() == st.message());
  CHECK(fs::is_character_file(fs::symlink_status(full)));
}
