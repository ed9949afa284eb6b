// A fresh directory for one test, removed with everything in it when the test ends.
#ifndef LEADENRICH_TESTS_UNIT_TEMP_DIR_H_
#define LEADENRICH_TESTS_UNIT_TEMP_DIR_H_

#include <unistd.h>

#include <filesystem>
#include <string>

namespace leadenrich::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "leadenrich_test") {
    path = std::filesystem::temp_directory_path() /
           (prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const char* name) const { return (path / name).string(); }
  static inline int counter = 0;
};

}  // namespace leadenrich::testing

#endif  // LEADENRICH_TESTS_UNIT_TEMP_DIR_H_
