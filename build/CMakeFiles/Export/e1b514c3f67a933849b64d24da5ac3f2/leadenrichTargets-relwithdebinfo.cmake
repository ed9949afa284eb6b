#----------------------------------------------------------------
# Generated CMake target import file for configuration "RelWithDebInfo".
#----------------------------------------------------------------

# Commands may need to know the format version.
set(CMAKE_IMPORT_FILE_VERSION 1)

# Import target "leadenrich::leadenrich" for configuration "RelWithDebInfo"
set_property(TARGET leadenrich::leadenrich APPEND PROPERTY IMPORTED_CONFIGURATIONS RELWITHDEBINFO)
set_target_properties(leadenrich::leadenrich PROPERTIES
  IMPORTED_LINK_INTERFACE_LANGUAGES_RELWITHDEBINFO "CXX"
  IMPORTED_LOCATION_RELWITHDEBINFO "${_IMPORT_PREFIX}/lib/libleadenrich.a"
  )

list(APPEND _cmake_import_check_targets leadenrich::leadenrich )
list(APPEND _cmake_import_check_files_for_leadenrich::leadenrich "${_IMPORT_PREFIX}/lib/libleadenrich.a" )

# Commands beyond this point should not need to know the version.
set(CMAKE_IMPORT_FILE_VERSION)
