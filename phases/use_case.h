#pragma once

#include "orchestrator/context.h"
#include "orchestrator/phase.h"

// What every use case (a command's rules, written once for every orchestrator) works with.
namespace pallet::phases {

using orchestrator::Context;
using orchestrator::resolve_image;
using orchestrator::ResolvedImage;

// Output formats of listing commands (docker's --format table|json).
enum class Format { table, json };

}  // namespace pallet::phases
