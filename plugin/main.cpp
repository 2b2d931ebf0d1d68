#include "plugin/app.h"

int main(int argc, char** argv) { return pallet::plugin::main(argc, argv); }
