file(REMOVE_RECURSE
  "CMakeFiles/leadenrich.dir/config.cc.o"
  "CMakeFiles/leadenrich.dir/config.cc.o.d"
  "CMakeFiles/leadenrich.dir/identity.cc.o"
  "CMakeFiles/leadenrich.dir/identity.cc.o.d"
  "CMakeFiles/leadenrich.dir/internal/json_parse.cc.o"
  "CMakeFiles/leadenrich.dir/internal/json_parse.cc.o.d"
  "CMakeFiles/leadenrich.dir/json.cc.o"
  "CMakeFiles/leadenrich.dir/json.cc.o.d"
  "CMakeFiles/leadenrich.dir/lead.cc.o"
  "CMakeFiles/leadenrich.dir/lead.cc.o.d"
  "CMakeFiles/leadenrich.dir/signals.cc.o"
  "CMakeFiles/leadenrich.dir/signals.cc.o.d"
  "CMakeFiles/leadenrich.dir/status.cc.o"
  "CMakeFiles/leadenrich.dir/status.cc.o.d"
  "libleadenrich.a"
  "libleadenrich.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/leadenrich.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
