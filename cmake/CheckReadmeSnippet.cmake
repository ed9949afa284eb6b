# cmake -P: fails unless README contains SNIPPET's text as a fenced ```LANG block.
file(READ "${README}" readme)
file(READ "${SNIPPET}" snippet)
string(FIND "${readme}" "```${LANG}\n${snippet}```" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md has no ```${LANG} block equal to ${SNIPPET}: update one to match the other")
endif()
