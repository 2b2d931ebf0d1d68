#include "util/together.h"

#include <exception>
#include <future>

namespace pallet::util {

void run_together(const std::vector<std::function<void()>>& lanes) {
    if (lanes.size() == 1) {
        lanes.front()();
        return;
    }
    std::vector<std::future<void>> running;
    running.reserve(lanes.size());
    for (const auto& lane : lanes) {
        running.push_back(std::async(std::launch::async, lane));
    }
    std::exception_ptr first;
    for (auto& lane : running) {
        try {
            lane.get();
        } catch (...) {
            if (!first) {
                first = std::current_exception();
            }
        }
    }
    if (first) {
        std::rethrow_exception(first);
    }
}

}  // namespace pallet::util
