// Dropping an error through ignore_error() compiles without a warning, even under -Werror
// (status_ignore_error_test).
#include "leadenrich/status.h"

leadenrich::Status save();
leadenrich::Result<int> count();

void caller() {
  leadenrich::ignore_error(save(), "the test says why");
  leadenrich::ignore_error(count(), "the test says why");
}
