// docker pallet test
#include <memory>

#include "plugin/commands/commands.h"

namespace pallet::plugin::commands {

void add_test(Tree& tree) {
    auto test = std::make_shared<phases::TestOptions>();
    auto* command = add_command(tree.app, "test", "Run the image's test suite with its services");
    command->footer("Arguments after -- are passed to the image's test command.");
    command->add_option("IMAGE", test->image, "The application image")
        ->required()
        ->check(image_reference());
    add_test_environment_options(command, *test);
    command->add_flag("--keep", test->keep, "Keep the test environment for inspection");
    command->callback([&tree, test] {
        test->args = tree.after_dashes;
        tree.action = [&tree, test] { return phases::run_test(tree.runtime.get(), *test); };
    });
}

}  // namespace pallet::plugin::commands
