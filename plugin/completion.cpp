#include "plugin/completion.h"

#include <CLI/CLI.hpp>
#include <algorithm>

#include "util/strings.h"

namespace pallet::plugin {
namespace {

struct Candidate {
    std::string word;
    std::string description;
};

struct Answer {
    std::vector<Candidate> candidates;
    int directive = directive::k_no_files;
};

bool takes_value(const CLI::Option* option) {
    return option->nonpositional() && option->get_items_expected_min() > 0;
}

// The flag `name` ("--format", "-e") of `command`, or of the plugin itself (--dry-run).
const CLI::Option* find_flag(const CLI::App* command, const CLI::App& root,
                             const std::string& name) {
    for (const CLI::App* at : {command, &root}) {
        for (const CLI::Option* option : at->get_options()) {
            if (option->nonpositional() && option->check_name(name)) {
                return option;
            }
        }
    }
    return nullptr;
}

const CLI::App* find_subcommand(const CLI::App* command, const std::string& name) {
    for (const CLI::App* sub : command->get_subcommands({})) {
        if (sub->get_name() == name) {
            return sub;
        }
    }
    return nullptr;
}

// The choices an option's type names ("TEXT:{table,json}"), none when it names none.
std::vector<std::string> choices(const CLI::Option* option) {
    const std::string type = option->get_type_name();
    const auto open = type.find('{');
    const auto close = type.find('}', open);
    if (open == std::string::npos || close == std::string::npos) {
        return {};
    }
    return util::split(type.substr(open + 1, close - open - 1), ',');
}

// The values `option` (a flag's value or a positional argument) may take.
Answer values(const CLI::Option* option, const CompletionSources& sources) {
    Answer answer;
    const std::string type = option->get_type_name();
    std::vector<std::string> words = choices(option);
    if ((option->get_name() == "ENV" || option->check_lname("from")) && sources.environments) {
        words = sources.environments();
    } else if (type.find("IMAGE") != std::string::npos && sources.images) {
        words = sources.images();
    } else if ((option->check_lname("service") || option->get_name() == "SERVICE") &&
               sources.services) {
        words = sources.services();
    } else if (type == "FILE") {
        answer.directive = directive::k_default;
    } else if (type == "DIR") {
        answer.directive = directive::k_dirs_only;
    }
    for (auto& word : words) {
        answer.candidates.push_back({word, ""});
    }
    return answer;
}

// The flags of `command` and the plugin's own, less those given already (once-only ones).
Answer flags(const CLI::App* command, const CLI::App& root, const std::vector<std::string>& given) {
    Answer answer;
    for (const CLI::App* at : {command, &root}) {
        for (const CLI::Option* option : at->get_options()) {
            if (!option->nonpositional() || option->get_lnames().empty()) {
                continue;
            }
            const std::string name = "--" + option->get_lnames().front();
            const bool repeatable =
                option->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll;
            const bool used = std::any_of(given.begin(), given.end(), [&](const std::string& word) {
                return option->check_name(word.substr(0, word.find('=')));
            });
            if ((!used || repeatable) && (at == command || name != "--help")) {
                answer.candidates.push_back({name, option->get_description()});
                for (const auto& letter : option->get_snames()) {
                    answer.candidates.push_back({"-" + letter, option->get_description()});
                }
            }
        }
        if (command == &root) {
            break;
        }
    }
    return answer;
}

Answer answer_for(const CLI::App& root, const std::vector<std::string>& words,
                  const std::string& partial, const CompletionSources& sources) {
    const CLI::App* command = &root;
    std::size_t positional = 0;
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string& word = words[i];
        if (word == "--") {
            return {};  // the application's arguments
        }
        if (word.size() > 1 && word[0] == '-') {
            const CLI::Option* option = find_flag(command, root, word.substr(0, word.find('=')));
            if (option != nullptr && takes_value(option) && word.find('=') == std::string::npos) {
                if (i + 1 == words.size()) {
                    return values(option, sources);  // the word being completed is its value
                }
                ++i;
            }
            continue;
        }
        if (const CLI::App* sub = positional == 0 ? find_subcommand(command, word) : nullptr) {
            command = sub;
            continue;
        }
        ++positional;
    }
    if (!partial.empty() && partial[0] == '-') {
        const auto equals = partial.find('=');
        if (equals == std::string::npos) {
            return flags(command, root, words);
        }
        // --format=js: the values, as --format=json.
        const CLI::Option* option = find_flag(command, root, partial.substr(0, equals));
        if (option == nullptr || !takes_value(option)) {
            return {};
        }
        Answer answer = values(option, sources);
        for (auto& candidate : answer.candidates) {
            candidate.word = partial.substr(0, equals + 1) + candidate.word;
        }
        return answer;
    }
    Answer answer;
    if (positional == 0 && !command->get_subcommands({}).empty()) {
        for (const CLI::App* sub : command->get_subcommands({})) {
            answer.candidates.push_back({sub->get_name(), sub->get_description()});
        }
        return answer;
    }
    std::vector<const CLI::Option*> arguments;
    for (const CLI::Option* option : command->get_options()) {
        if (!option->nonpositional()) {
            arguments.push_back(option);
        }
    }
    if (positional < arguments.size()) {
        return values(arguments[positional], sources);
    }
    return answer;
}

}  // namespace

std::string complete(const CLI::App& root, const std::vector<std::string>& args,
                     const CompletionSources& sources, bool descriptions) {
    const std::vector<std::string> words(args.begin(), args.empty() ? args.end() : args.end() - 1);
    const std::string partial = args.empty() ? "" : args.back();
    const Answer answer = answer_for(root, words, partial, sources);
    std::string out;
    for (const auto& candidate : answer.candidates) {
        if (candidate.word.compare(0, partial.size(), partial) != 0) {
            continue;
        }
        const std::string description =
            descriptions ? util::replace_all(candidate.description, "\n", " ") : "";
        out += description.empty() ? candidate.word + "\n"
                                   : candidate.word + "\t" + description + "\n";
    }
    return out + ":" + std::to_string(answer.directive) + "\n";
}

}  // namespace pallet::plugin
