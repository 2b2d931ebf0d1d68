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
struct RestoreOptions {
    std::string env;
    std::string id = "";    // a backup of the environment...
    std::string from = "";  // ...or an archive of backup export ("-": stdin), imported first
    // Leaves the environment in maintenance with its processes stopped (rollback --data,
    // which serves another version next).
    bool stay_in_maintenance = false;
    // The environment is new (env create --from --data): nothing of its own is served, stopped
    // or kept as a backup first.
    bool into_new = false;
    std::string from_name = "";  // what messages call `from` ("": its file name)
};
int run_restore(Context& context, const RestoreOptions& options);
// The restore itself; returns the ID of the backup of what it replaced ("" under --dry-run).
std::string restore_backup(Context& context, const RestoreOptions& options);

}  // namespace pallet::phases
