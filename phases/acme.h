#pragma once

#include <ctime>
#include <string>

#include "phases/use_case.h"
#include "state/environments.h"

namespace pallet::phases {

// Certificates from an ACME server (Let's Encrypt by default) for environments with
// `--tls acme`: a well-kept client (lego) runs in a container next to the edge, which answers the
// server's HTTP-01 challenges from the files the client leaves in a volume they share.

// The ACME client's image: plugins.pallet acme-image / PALLET_ACME_IMAGE, else goacme/lego (an
// image whose entrypoint is lego).
std::string acme_image(const Context& context);

// Let's Encrypt's directory, the default of --acme-directory.
extern const char* const k_default_acme_directory;

// Where the edge finds the challenges' files (its location /.well-known/acme-challenge/).
extern const char* const k_acme_webroot_in_edge;

// Whether `env`'s certificate is to be asked for now: it has none, it does not name every host
// name of the site, or it expires within 30 days (`force`: always).
bool certificate_due(const state::Environment& env, std::time_t now, bool force);

// Asks the ACME server for a certificate for every host name of `env` (the edge must run and
// serve its site's HTTP) and stores it in `env` (not saved). Throws an Error with the client's
// last words when it fails.
void request_certificate(Context& context, state::Environment& env);

// `docker pallet edge renew [--force]`: a new certificate for each ACME environment that is due;
// a failure is recorded with the environment (status shows it) and its old certificate stays.
// Returns 1 when any failed.
int run_edge_renew(Context& context, bool force);

}  // namespace pallet::phases
