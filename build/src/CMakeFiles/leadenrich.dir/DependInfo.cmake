
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/config.cc" "src/CMakeFiles/leadenrich.dir/config.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/config.cc.o.d"
  "/work/main/src/identity.cc" "src/CMakeFiles/leadenrich.dir/identity.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/identity.cc.o.d"
  "/work/main/src/internal/json_parse.cc" "src/CMakeFiles/leadenrich.dir/internal/json_parse.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/internal/json_parse.cc.o.d"
  "/work/main/src/json.cc" "src/CMakeFiles/leadenrich.dir/json.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/json.cc.o.d"
  "/work/main/src/lead.cc" "src/CMakeFiles/leadenrich.dir/lead.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/lead.cc.o.d"
  "/work/main/src/signals.cc" "src/CMakeFiles/leadenrich.dir/signals.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/signals.cc.o.d"
  "/work/main/src/status.cc" "src/CMakeFiles/leadenrich.dir/status.cc.o" "gcc" "src/CMakeFiles/leadenrich.dir/status.cc.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
