#pragma once

#include <functional>
#include <vector>

namespace pallet::util {

// Runs `lanes` at once, each on a thread of its own (one alone on this one), and returns when
// every one has ended; then throws what the first of them in order threw, if any. A lane that
// fails does not stop the others: each runs to its end, or to a Ctrl-C, which reaches them all,
// so that what they made can be cleaned up once nothing runs any more.
void run_together(const std::vector<std::function<void()>>& lanes);

}  // namespace pallet::util
