#include "plugin/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "util/strings.h"

namespace pallet::plugin {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* k_warning = "warning: ";

bool is_warning(const std::string& text) { return text.rfind(k_warning, 0) == 0; }

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// Only results and errors: warnings and notes, no steps.
class QuietProgress : public orchestrator::Progress {
  public:
    void step(const std::string& text) override {
        if (is_warning(text)) {
            note("docker-pallet: " + text);
        }
    }
    void note(const std::string& text) override {
        fmt::print(stderr, "{}\n", text);
        std::fflush(stderr);
    }
    bool shows_logs() const override { return false; }
};

// One JSON object a line: {"time", "environment", "step", "state", "message", "seconds"}; a
// step is "running" when it begins and "done" (or "failed") when the next begins or the
// command ends; warnings, notes and the command's error are events of their own.
class JsonProgress : public orchestrator::Progress {
  public:
    explicit JsonProgress(std::string environment) : m_environment(std::move(environment)) {}

    // Independent jobs run at once (util::run_together) and say their steps from their threads.
    void step(const std::string& text) override {
        const std::lock_guard lock(m_mutex);
        if (is_warning(text)) {
            emit({{"state", "warning"}, {"message", text.substr(std::string(k_warning).size())}});
            return;
        }
        close("done");
        ++m_step;
        m_open = true;
        m_started = Clock::now();
        emit({{"step", m_step}, {"state", "running"}, {"message", text}});
    }
    void outcome(const std::string& text) override {
        step(text);
        const std::lock_guard lock(m_mutex);
        close("done");
    }
    void note(const std::string& text) override {
        const std::lock_guard lock(m_mutex);
        emit({{"state", "note"}, {"message", text}});
    }
    // A deploy's raw log would break the one-event-a-line stream: it stays in `docker pallet logs`.
    bool shows_logs() const override { return false; }
    bool finish(const std::string& error) override {
        const std::lock_guard lock(m_mutex);
        close(error.empty() ? "done" : "failed");
        if (!error.empty()) {
            emit({{"state", "error"}, {"message", error}});
        }
        return !error.empty();
    }

  private:
    void close(const char* state) {
        if (m_open) {
            emit({{"step", m_step},
                  {"state", state},
                  {"seconds", std::round(seconds_since(m_started) * 1000) / 1000}});
            m_open = false;
        }
    }
    void emit(const nlohmann::ordered_json& fields) {
        const auto now = std::chrono::system_clock::now();
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
            1000;
        nlohmann::ordered_json event = {
            {"time", fmt::format("{}.{:03d}Z",
                                 util::utc_time(std::chrono::system_clock::to_time_t(now),
                                                "%Y-%m-%dT%H:%M:%S"),
                                 millis)}};
        if (!m_environment.empty()) {
            event["environment"] = m_environment;
        }
        event.update(fields);
        fmt::print(stderr, "{}\n", event.dump());
        std::fflush(stderr);
    }

    std::mutex m_mutex;
    std::string m_environment;
    int m_step = 0;
    bool m_open = false;
    Clock::time_point m_started;
};

// On a terminal: the running step on one line, redrawn with a spinner and its elapsed time;
// a finished step stays as one line with its time.
class TtyProgress : public orchestrator::Progress {
  public:
    explicit TtyProgress(bool color) : m_color(color), m_ticker([this] { tick(); }) {}
    ~TtyProgress() override {
        {
            std::lock_guard lock(m_mutex);
            m_stop = true;
        }
        m_wake.notify_all();
        m_ticker.join();
    }

    void step(const std::string& text) override {
        std::lock_guard lock(m_mutex);
        end(mark_done());
        if (is_warning(text)) {
            print_line(fmt::format("{} {}", paint("33", "!"), text));
            return;
        }
        m_text = text;
        m_started = Clock::now();
        m_open = true;
        draw();
    }
    void outcome(const std::string& text) override {
        std::lock_guard lock(m_mutex);
        end(mark_done());
        print_line(fmt::format("{} {} {}", mark_done(), text, paint("2", "0.0s")));
    }
    void note(const std::string& text) override {
        std::lock_guard lock(m_mutex);
        end(mark_done());
        print_line(text);
    }
    void output_follows() override {
        std::lock_guard lock(m_mutex);
        end(paint("36", ">"));
    }
    void result_follows() override {
        std::lock_guard lock(m_mutex);
        end(mark_done());
    }
    bool finish(const std::string& error) override {
        std::lock_guard lock(m_mutex);
        end(error.empty() ? mark_done() : paint("31", "x"));
        return false;
    }

  private:
    std::string paint(const char* code, const std::string& text) const {
        return m_color ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
    }
    std::string mark_done() const { return paint("32", "\u2714"); }

    void print_line(const std::string& text) {
        fmt::print(stderr, "\r\033[K{}\n", text);
        std::fflush(stderr);
    }
    // The running step, cut to the terminal's width so that \r redraws one line.
    void draw() {
        static constexpr const char* k_frames[] = {"\u280b", "\u2819", "\u2839", "\u2838",
                                                   "\u283c", "\u2834", "\u2826", "\u2827",
                                                   "\u2807", "\u280f"};
        const std::string elapsed = fmt::format("{:.1f}s", seconds_since(m_started));
        winsize size{};
        const std::size_t columns =
            ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 20 ? size.ws_col : 80;
        std::string text = m_text;
        const std::size_t room = columns - elapsed.size() - 4;
        if (text.size() > room) {
            text = text.substr(0, room - 3) + "...";
        }
        fmt::print(stderr, "\r\033[K{} {} {}", paint("36", k_frames[m_frame % 10]), text,
                   paint("2", elapsed));
        std::fflush(stderr);
    }
    // Ends the running step's line with `mark` and its time.
    void end(const std::string& mark) {
        if (m_open) {
            print_line(fmt::format("{} {} {}", mark, m_text,
                                   paint("2", fmt::format("{:.1f}s", seconds_since(m_started)))));
            m_open = false;
        }
    }
    void tick() {
        std::unique_lock lock(m_mutex);
        while (!m_stop) {
            m_wake.wait_for(lock, std::chrono::milliseconds(100));
            if (m_open && !m_stop) {
                ++m_frame;
                draw();
            }
        }
    }

    bool m_color;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_stop = false;
    bool m_open = false;
    std::string m_text;
    Clock::time_point m_started;
    unsigned m_frame = 0;
    std::thread m_ticker;  // last: it starts once everything it uses is there
};

}  // namespace

std::optional<ProgressMode> parse_progress_mode(const std::string& text) {
    if (text == "auto") {
        return ProgressMode::automatic;
    }
    if (text == "tty") {
        return ProgressMode::tty;
    }
    if (text == "plain") {
        return ProgressMode::plain;
    }
    if (text == "json") {
        return ProgressMode::json;
    }
    if (text == "quiet") {
        return ProgressMode::quiet;
    }
    return std::nullopt;
}

std::unique_ptr<orchestrator::Progress> make_progress(ProgressMode mode, bool color,
                                                      const std::string& environment) {
    if (mode == ProgressMode::automatic) {
        const char* term = std::getenv("TERM");
        const bool terminal =
            ::isatty(STDERR_FILENO) != 0 && (term == nullptr || std::string(term) != "dumb");
        mode = terminal ? ProgressMode::tty : ProgressMode::plain;
    }
    switch (mode) {
        case ProgressMode::tty:
            return std::make_unique<TtyProgress>(color);
        case ProgressMode::json:
            return std::make_unique<JsonProgress>(environment);
        case ProgressMode::quiet:
            return std::make_unique<QuietProgress>();
        default:
            return std::make_unique<orchestrator::PlainProgress>();
    }
}

}  // namespace pallet::plugin
