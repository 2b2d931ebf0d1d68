// The only unit test that spawns real processes: the Runner itself.
#include "docker/process_runner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "util/cancel.h"
#include "util/error.h"

namespace pallet::docker {
namespace {

Result run(std::vector<std::string> argv, std::optional<std::string> input = std::nullopt) {
    ProcessRunner runner;
    Command command;
    command.argv = std::move(argv);
    command.stdin_data = std::move(input);
    return runner.run(command);
}

TEST(ProcessRunner, CapturesBothStreamsAndTheExitCode) {
    Result result = run({"sh", "-c", "echo out; echo err >&2; exit 3"});
    EXPECT_EQ(result.out, "out\n");
    EXPECT_EQ(result.err, "err\n");
    EXPECT_EQ(result.exit_code, 3);
    EXPECT_EQ(result.signal, 0);
    EXPECT_FALSE(result.ok());
}

TEST(ProcessRunner, LargeOutputOnBothStreamsDoesNotDeadlock) {
    Result result = run({"sh", "-c", "head -c 3000000 /dev/zero; head -c 3000000 /dev/zero >&2"});
    EXPECT_EQ(result.out.size(), 3000000u);
    EXPECT_EQ(result.err.size(), 3000000u);
    EXPECT_TRUE(result.ok());
}

TEST(ProcessRunner, FeedsStdin) {
    std::string big(1 << 20, 'x');
    Result result = run({"wc", "-c"}, big);
    EXPECT_EQ(std::stoul(result.out), big.size());
}

TEST(ProcessRunner, KeepsSignalApartFromExitCode) {
    Result result = run({"sh", "-c", "kill -TERM $$"});
    EXPECT_EQ(result.signal, 15);
    EXPECT_FALSE(result.ok());
}

TEST(ProcessRunner, MissingProgramIsAClearError) {
    try {
        run({"no-such-program-pallet"});
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("not found in PATH"), std::string::npos);
    }
}

TEST(ProcessRunner, CancellationTerminatesTheChildAndThrows) {
    // Cancellation is the process's: the next test must not start cancelled.
    struct Reset {
        ~Reset() { cancel::reset(); }
    } reset;
    std::thread canceller([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel::request();
    });
    const auto start = std::chrono::steady_clock::now();
    EXPECT_THROW(run({"sleep", "30"}), Cancelled);
    canceller.join();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
    // Commands that must finish (cleanup) still run after cancellation.
    ProcessRunner runner;
    Command cleanup;
    cleanup.argv = {"sh", "-c", "sleep 0.2; echo done"};
    cleanup.on_cancel = OnCancel::finish;
    EXPECT_EQ(runner.run(cleanup).out, "done\n");
}

}  // namespace
}  // namespace pallet::docker
