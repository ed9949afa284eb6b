file(REMOVE_RECURSE
  "libleadenrich.a"
)
