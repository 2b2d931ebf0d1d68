#include "util/together.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

namespace pallet::util {
namespace {

// Each lane waits (at most 10 s) until every lane has begun: run one after the other, the
// first would give up alone.
TEST(RunTogether, TheLanesRunAtOnce) {
    std::atomic<int> begun{0};
    std::atomic<int> alone{0};
    const auto lane = [&] {
        ++begun;
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (begun.load() < 3 && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        alone += begun.load() < 3 ? 1 : 0;
    };
    run_together({lane, lane, lane});
    EXPECT_EQ(begun.load(), 3);
    EXPECT_EQ(alone.load(), 0);
}

// A lane's failure waits for the others, which run to their end; the first lane's error in
// order is the one thrown.
TEST(RunTogether, EveryLaneEndsAndTheFirstFailureInOrderIsThrown) {
    std::atomic<bool> slow_ended{false};
    try {
        run_together({[] { throw std::runtime_error("first"); },
                      [&] {
                          std::this_thread::sleep_for(std::chrono::milliseconds(50));
                          slow_ended = true;
                      },
                      [] { throw std::logic_error("third"); }});
        FAIL() << "nothing thrown";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first");
    }
    EXPECT_TRUE(slow_ended.load());
}

TEST(RunTogether, OneLaneRunsOnThisThread) {
    const auto caller = std::this_thread::get_id();
    std::thread::id ran;
    run_together({[&] { ran = std::this_thread::get_id(); }});
    EXPECT_EQ(ran, caller);
}

}  // namespace
}  // namespace pallet::util
