#pragma once

#include <string>

namespace pallet::orchestrator {

// Where a command's progress goes (stderr; stdout is data only). The use cases say what happens;
// the command line chooses how it is shown (--progress plain|tty|json|quiet).
class Progress {
  public:
    virtual ~Progress() = default;
    // A step begins; the step before, if any, has ended.
    virtual void step(const std::string& text) = 0;
    // A step that is over as it is said (an outcome: "deploy of v2 succeeded"): nothing after it
    // is part of it, so a failure that follows is not shown as its own.
    virtual void outcome(const std::string& text) { step(text); }
    // A message to read as it is (a note, a warning, an error's explanation), not a step.
    virtual void note(const std::string& text) = 0;
    // A program's own output follows on the terminal (a deploy's log, a test run): stop drawing.
    virtual void output_follows() {}
    // A result goes to stdout next (the same terminal, often): the running step is done.
    virtual void result_follows() {}
    // Whether a deploy's log is shown as it runs (quiet: no, only results and errors).
    virtual bool shows_logs() const { return true; }
    // The command has ended (`error`: its error, "" when it succeeded). True when the error was
    // shown (json); the caller prints it otherwise.
    virtual bool finish(const std::string& error) {
        (void)error;
        return false;
    }
};

// Today's lines: "=> text" for steps, notes as they are.
class PlainProgress : public Progress {
  public:
    void step(const std::string& text) override;
    void note(const std::string& text) override;
};

}  // namespace pallet::orchestrator
