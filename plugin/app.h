#pragma once

namespace pallet::plugin {

// The whole plugin: protocol, command line, error boundary. Returns the process exit code.
int main(int argc, char** argv);

}  // namespace pallet::plugin
