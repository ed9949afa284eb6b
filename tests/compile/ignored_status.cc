// Dropping a Status or a Result<T> without a word must not compile quietly (status_nodiscard_test
// expects a warning for each line below).
#include "leadenrich/status.h"

leadenrich::Status save();
leadenrich::Result<int> count();

void caller() {
  save();
  count();
}
