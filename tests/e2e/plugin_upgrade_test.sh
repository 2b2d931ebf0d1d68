#!/usr/bin/env bash
# Upgrading the plugin breaks nothing users run: environments served by docker-pallet as it was
# before (built from git history) keep serving, and the new binary takes over their routers
# (started in the old layout) under load without a failed request, with every setting kept.
source "$(dirname "$0")/lib.sh"
setup services
old="$(previous_binary)" || { fail "could not build the previous plugin"; exit 1; }
"$old" version >/dev/null && pass "the previous plugin was built from git history"

env="$(env_name upgrade)"
use_plugin "$old"
pallet env create "$env" --kind staging --site-domain old.test --health-timeout 8s --drain 1s --service postgres
pallet env set "$env" SECRET_KEY=kept-across-upgrades GREETING=hello
pallet release "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "the previous plugin releases v1"
url="$OUT"
"$DOCKER" pallet deploy "$env" pallet-conformance:v2 >/dev/null 2>&1
db_url_of_deploy() {
    "$DOCKER" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "pallet-$env-deploy" | sed -n 's/^DB_DEFAULT_URL=//p'
}
old_db_url="$(db_url_of_deploy)"
# Every setting but the variables (the old plugin masked some by name, the new one all).
# The settings of `env show --format json`, without the variables and without the fields the new
# plugin adds (an environment the old plugin made runs on the engine).
settings() {
    python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("Variables"); [d.pop(k, None) for k in ("Orchestrator", "ProcessStopTimeoutSeconds", "ProcessSettleSeconds", "KeepBackups", "BackupBeforeDeploy", "Maintenance", "TTLSeconds")]; print(json.dumps(d, sort_keys=True))'
}
settings_before="$("$DOCKER" pallet env show "$env" --format json | settings)"


use_plugin "$PALLET_BINARY"
under_load serve "$env" pallet-conformance:v2
expect_eq "$CODE" "0" "the new plugin serves v2 behind the router the old one started"
expect_eq "$(field '["failures"]')" "0" "taking over the old router: zero failed requests of $(field '["requests"]')"
expect_eq "$(curl -s --max-time 5 "$url")" "v2" "v2 serves at the same address"
expect_eq "$("$DOCKER" inspect -f '{{index .Config.Labels "io.pallet.router-config"}}' "pallet-$env-router")" "" \
    "the router was not restarted (it keeps its old layout)"
under_load scale "$env" 2
expect_eq "$CODE:$(field '["failures"]')" "0:0" "scale with the new plugin: zero failed requests"
under_load rollback "$env"
expect_eq "$CODE:$(field '["failures"]')" "0:0" "rollback with the new plugin: zero failed requests"
expect_eq "$(curl -s --max-time 5 "$url")" "v1" "rolled back to v1"
expect_eq "$("$DOCKER" pallet env show "$env" --format json | settings)" "$settings_before" "every setting is kept"
expect_eq "$("$DOCKER" pallet env show "$env" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["Orchestrator"])')" "engine" \
    "an environment of the old plugin runs on the engine"
variables="$("$DOCKER" pallet env show "$env" --format json --reveal | python3 -c 'import json,sys; print(json.load(sys.stdin)["Variables"])')"
expect_eq "$variables" "{'GREETING': 'hello', 'SECRET_KEY': 'kept-across-upgrades'}" "every variable is kept"
expect_eq "$(record_values "$env" deploy env.SECRET_KEY | tail -1)" "kept-across-upgrades" \
    "the variables reach the deploy the new plugin ran"
expect_eq "$(db_url_of_deploy)" "$old_db_url" "the provided PostgreSQL keeps its role and password"
expect_contains "$old_db_url" "postgres://" "(the old plugin's deploy had one)"
pallet history "$env" --format json
expect_eq "$(echo "$OUT" | grep -c '"Phase":"deploy"')" "3" "history keeps the old plugin's deploys"

# A router the new plugin starts itself has the new layout.
pallet stop "$env"
pallet serve "$env" pallet-conformance:v1
expect_eq "$CODE" "0" "stop, then serve with the new plugin"
expect_eq "$("$DOCKER" inspect -f '{{index .Config.Labels "io.pallet.router-config"}}' "pallet-$env-router")" \
    "/pallet/nginx.conf" "the new router owns its whole configuration"
expect_eq "$(curl -s --max-time 5 "$OUT")" "v1" "and serves"
