#pragma once

#include <string>

#include "phases/use_case.h"

namespace pallet::phases {

// `docker pallet restore ENV ID`: puts the environment in maintenance (503 through its router
// and the edge; its processes stopped), restores the backup's PostgreSQL into a new database
// and its /storage into a new directory beside the current ones, and swaps them in only once
// both are restored; the data it replaced is first kept as a backup of its own ("before restore
// of ID"), so a restore can be undone. A failed restore leaves the environment as it was,
// serving again. A backup the environment's services cannot take (another kind, a newer
// PostgreSQL major version) is refused before anything changes.
int run_restore(Context& context, const std::string& env, const std::string& id);

}  // namespace pallet::phases
