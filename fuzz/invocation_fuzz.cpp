// The global-flag parser: docker's flags before `pallet`, in every pflag form. Property: what it
// passes on to docker, `pallet` and the plugin's arguments parse again to the same invocation
// (the globals are passed on verbatim, nothing is lost or taken twice).
#include "fuzz_support.h"
#include "plugin/invocation.h"
#include "util/error.h"

using pallet::plugin::Invocation;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Invocation first;
    try {
        first =
            pallet::plugin::parse_invocation(pallet::fuzz::words(pallet::fuzz::text(data, size)));
    } catch (const pallet::UsageError&) {
        return 0;  // malformed global flags are refused
    }
    if (first.kind != Invocation::Kind::run) {
        return 0;
    }
    std::vector<std::string> again = first.global_args;
    again.emplace_back("pallet");
    again.insert(again.end(), first.args.begin(), first.args.end());
    Invocation second;
    try {
        second = pallet::plugin::parse_invocation(again);
    } catch (const pallet::UsageError&) {
        pallet::fuzz::broken("what was passed on parses again");
    }
    if (second.kind != first.kind || second.global_args != first.global_args ||
        second.args != first.args || second.debug != first.debug ||
        second.config_dir != first.config_dir) {
        pallet::fuzz::broken("what was passed on parses again to the same invocation");
    }
    return 0;
}
