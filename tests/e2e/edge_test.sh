#!/usr/bin/env bash
# The edge: one front door on a port of 127.0.0.1 (80 for real) that sends each request to the
# environment whose SITE_DOMAIN is its Host, through that environment's router. Unknown hosts get
# 404; an environment added and removed under load on another costs it no request; an upgrade
# behind the edge has 0 failed requests; bad input (a port taken, a domain claimed twice) is one
# clear line that changes nothing. HTTPS with certificates the test makes, and with certificates
# from an ACME server (Debian's pebble) through the edge's HTTP-01 answers, renewed under load.
source "$(dirname "$0")/lib.sh"
setup acme
skip_if_edge_runs
# The ACME client's volume is the engine's: the test removes it only when it made it.
acme_volume_before="$("$DOCKER" volume ls -q --filter name=^pallet-acme$)"
pebble="pallet-test-pebble-$RUN_ID"
lego_image="pallet-test-lego:$RUN_ID"
cleanup() {
    "$DOCKER" pallet edge down >/dev/null 2>&1
    "$DOCKER" rm -f "$pebble" >/dev/null 2>&1
    "$DOCKER" rmi "$lego_image" >/dev/null 2>&1
    if [ -z "$acme_volume_before" ]; then
        # After the environments' ACME containers, which hold it while they exist.
        remove_env_objects
        "$DOCKER" volume rm pallet-acme >/dev/null 2>&1
        [ -z "$("$DOCKER" volume ls -q --filter name=^pallet-acme$)" ] ||
            fail "the test left the volume pallet-acme, which it made"
    fi
    rm -rf "${tls:-}"
}
trap 'cleanup; finish; exit $?' EXIT
# The edge runs Debian's nginx-light as the package installs it (the routers run the other image).
export PALLET_EDGE_IMAGE=pallet-test-nginx-debian:1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port="$(free_port)"
sport="$(free_port)"
edge="http://127.0.0.1:$port/"
# GET / through the edge with Host: $1; prints "STATUS FIRST-LINE-OF-BODY".
through() {
    local answer; answer="$(curl -s --max-time 5 -H "Host: $1" -w '\n%{http_code}' "$edge")"
    echo "$(tail -n 1 <<<"$answer") $(head -n 1 <<<"$answer")"
}

a="$(env_name a)"; b="$(env_name b)"; c="$(env_name c)"
pallet env create "$a" --site-domain "$a.test" --drain 1s --health-timeout 15s
pallet env create "$b" --site-domain "$b.test" --drain 1s --health-timeout 15s
pallet release "$a" pallet-conformance:v1
expect_eq "$CODE" "0" "release a"
pallet release "$b" pallet-conformance:v2
expect_eq "$CODE" "0" "release b"

# 1. Two environments on one port, told apart by Host.
pallet edge up --http "127.0.0.1:$port" --https "127.0.0.1:$sport"
expect_eq "$CODE" "0" "edge up on 127.0.0.1:$port and 127.0.0.1:$sport"
expect_eq "$(through "$a.test")" "200 v1" "Host $a.test reaches a"
expect_eq "$(curl -s --max-time 5 --resolve "$b.test:$port:127.0.0.1" "http://$b.test:$port/")" "v2" \
    "$b.test (resolved by curl) reaches b"
expect_eq "$(through "nobody.test" | cut -d' ' -f1)" "404" "an unknown host gets 404, never another site"
expect_eq "$(through "localhost" | cut -d' ' -f1)" "404" "the default domain is nobody's"
pallet edge status --format json
expect_contains "$OUT" "\"Domain\":\"$a.test\",\"Environment\":\"$a\"" "edge status lists a"
expect_contains "$OUT" "\"Domain\":\"$b.test\",\"Environment\":\"$b\"" "and b"
expect_eq "$("$DOCKER" inspect -f '{{.Config.Image}}' pallet-edge)" "pallet-test-nginx-debian:1" \
    "the edge runs the image PALLET_EDGE_IMAGE names"
expect_eq "$(curl -s --max-time 5 "$(env_url "$a")")" "v1" "a keeps its own port"

# 2. A third environment added, served and removed while a is under load through the edge.
url="$edge"; LOAD_HOST="$a.test"
third() {
    pallet env create "$c" --site-domain "$c.test" && pallet release "$c" pallet-conformance:v3 &&
        [ "$(through "$c.test")" == "200 v3" ] && pallet rm "$c" --volumes &&
        [ "$(through "$c.test" | cut -d' ' -f1)" == 404 ]
}
LOAD_RUN=third under_load
expect_eq "$CODE" "0" "c created, reached at $c.test, removed, then 404"
expect_eq "$(field '["failures"]'):$(field '["bodies"]')" "0:{'v1': $(field '["requests"]')}" \
    "a under load meanwhile: 0 failed requests, all from v1"

# 3. An upgrade behind the edge: 0 failed requests, then only v2.
under_load release "$a" pallet-conformance:v2
expect_eq "$CODE" "0" "upgrade a to v2 behind the edge"
expect_eq "$(field '["failures"]')" "0" "upgrade behind the edge: 0 failed of $(field '["requests"]')"
expect_eq "$(through "$a.test")" "200 v2" "a serves v2 through the edge"
LOAD_HOST=""

# 4. A new domain applies at once; a domain claimed twice and a port taken are refused.
pallet env update "$b" --site-domain "new-$b.test"
expect_eq "$(through "new-$b.test")" "200 v2" "b at its new domain at once"
expect_eq "$(through "$b.test" | cut -d' ' -f1)" "404" "and no longer at its old one"
pallet env update "$b" --alias "www-$b.test"
expect_eq "$(through "www-$b.test")" "200 v2" "an alias of b reaches b"
pallet env create "$c" --site-domain "$a.test"
expect_eq "$CODE" "1" "a domain another environment has: refused"
expect_contains "$ERR" "$a.test is already a host name of $a" "the error names the environment"
pallet env create "$c" --site-domain "www-$b.test"
expect_contains "$CODE:$ERR" "1:docker-pallet: error: www-$b.test is already a host name of $b" "so is another's alias"
pallet env update "$b" --no-aliases
expect_eq "$(through "www-$b.test" | cut -d' ' -f1)" "404" "--no-aliases removes them"
pallet env ls -q
expect_not_contains "$OUT" "$c" "and nothing was created"
blocker="$(free_port)"
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$blocker" &
E2E_PIDS+=("$!")
sleep 0.3
pallet edge up --http "127.0.0.1:$blocker"
expect_eq "$CODE" "1" "edge up on a port taken: refused"
expect_contains "$ERR" "port 127.0.0.1:$blocker is taken" "the error says the port is taken"
expect_eq "$(through "$a.test")" "200 v2" "the edge goes on where it was"
expect_eq "$("$DOCKER" ps -aq --filter name=^pallet-edge-next$)" "" "nothing of the new one is left"

# 5. HTTPS with certificates made here (a test CA): refused when they do not fit, served when they do.
tls="$(mktemp -d)"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 2 \
    -subj "/CN=pallet test CA" 2>/dev/null
# certificate NAME DOMAIN [faketime offset]: NAME.pem and NAME.key for DOMAIN, signed by the CA.
certificate() {
    openssl req -newkey rsa:2048 -nodes -keyout "$tls/$1.key" -out "$tls/$1.csr" -subj "/CN=$2" 2>/dev/null
    printf 'subjectAltName=DNS:%s\n' "$2" >"$tls/$1.ext"
    ${3:+faketime -f "$3"} openssl x509 -req -in "$tls/$1.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 1 -extfile "$tls/$1.ext" -out "$tls/$1.pem" 2>/dev/null
}
certificate a "$a.test"; certificate other other.test; certificate old "$a.test" -3d
key_line="$(sed -n 2p "$tls/a.key")"
shown="$("$DOCKER" pallet env show "$a" --format json)"
pallet env update "$a" --tls-cert "$tls/other.pem" --tls-key "$tls/other.key"
expect_eq "$CODE" "1" "a certificate for another domain: refused"
expect_contains "$ERR" "the certificate is for other.test, not $a.test" "the error names both"
pallet env update "$a" --tls-cert "$tls/a.pem" --tls-key "$tls/other.key"
expect_eq "$CODE" "1" "a key that is not the certificate's: refused"
expect_contains "$ERR" "the key is not the certificate's" "the error says so"
expect_not_contains "$ERR" "$key_line" "the error has no key in it"
pallet env update "$a" --tls-cert "$tls/old.pem" --tls-key "$tls/old.key"
expect_eq "$CODE" "1" "an expired certificate: refused"
expect_contains "$ERR" "the certificate expired on" "the error says when it expired"
expect_eq "$("$DOCKER" pallet env show "$a" --format json)" "$shown" "refused certificates changed nothing"
"$DOCKER" pallet --dry-run env update "$a" --tls-cert "$tls/a.pem" --tls-key "$tls/a.key" >"$tls/dry" 2>&1
expect_not_contains "$(cat "$tls/dry")" "$key_line" "--dry-run shows no key"
pallet env update "$a" --site-protocol https --tls-cert "$tls/a.pem" --tls-key "$tls/a.key"
expect_eq "$CODE" "0" "a's own certificate and key"
pallet env show "$a"
expect_contains "$OUT" "HTTPS:         at the edge, a certificate for $a.test valid until" "env show says until when"
pallet env update "$a" --alias "www-$a.test"
expect_eq "$CODE" "1" "an alias the certificate does not name: refused"
expect_contains "$ERR" "the certificate is for $a.test, not www-$a.test" "the error names the alias"
expect_not_contains "$("$DOCKER" pallet env show "$a" --format json --reveal)" "$key_line" "env show never shows the key"
expect_eq "$(curl -s --max-time 5 --cacert "$tls/ca.pem" --resolve "$a.test:$sport:127.0.0.1" "https://$a.test:$sport/")" \
    "v2" "HTTPS to $a.test: the chain verifies against the test CA, a answers"
pallet release "$a" pallet-conformance:headers
expect_eq "$(curl -s --max-time 5 --cacert "$tls/ca.pem" --resolve "$a.test:$sport:127.0.0.1" \
    "https://$a.test:$sport/cgi-bin/headers")" "$(printf 'proto=https\nhost=%s' "$a.test:$sport")" \
    "the app sees X-Forwarded-Proto https and the Host the user asked for"
expect_eq "$(curl -s --max-time 5 -o /dev/null -w '%{http_version}' --http2 --cacert "$tls/ca.pem" \
    --resolve "$a.test:$sport:127.0.0.1" "https://$a.test:$sport/")" "2" "HTTP/2 on HTTPS"
curl -s --max-time 5 --tls-max 1.1 --cacert "$tls/ca.pem" --resolve "$a.test:$sport:127.0.0.1" "https://$a.test:$sport/" >/dev/null
expect_eq "$?" "35" "TLS 1.1: no handshake"
hsts() { curl -s --max-time 5 -D - -o /dev/null --cacert "$tls/ca.pem" --resolve "$a.test:$sport:127.0.0.1" \
    "https://$a.test:$sport/" | tr -d '\r' | grep -i '^strict-transport-security:'; }
expect_eq "$(hsts)" "" "no HSTS unless asked for"
pallet env update "$a" --hsts
expect_eq "$(hsts)" "strict-transport-security: max-age=31536000" "--hsts: HTTPS answers say HSTS"
expect_eq "$(curl -s --max-time 5 -o /dev/null -w '%{http_code} %{redirect_url}' -H "Host: $a.test" "$edge")" \
    "308 https://$a.test:$sport/" "HTTP to an https site: 308 to HTTPS"
curl -s --max-time 5 --cacert "$tls/ca.pem" --resolve "nobody.test:$sport:127.0.0.1" "https://nobody.test:$sport/" >/dev/null
expect_eq "$?" "35" "TLS for a name no environment has a certificate for: no handshake"
expect_eq "$(through "new-$b.test")" "200 v2" "b, without a certificate, stays on HTTP"
expect_eq "$("$DOCKER" exec pallet-edge stat -c '%a %U' "/pallet/tls/$a.key")" "600 root" "the key in the edge: root's alone"
pallet edge status
expect_contains "$OUT" "$a.test" "edge status lists the https site"
expect_contains "$OUT" "HTTP redirects" "and that HTTP redirects"
# The edge moves its HTTP port while HTTPS stays: both served by the new one.
port2="$(free_port)"
pallet edge up --http "127.0.0.1:$port2"
expect_eq "$CODE" "0" "edge up with another HTTP port, the same HTTPS port"
edge="http://127.0.0.1:$port2/"
expect_eq "$(through "new-$b.test")" "200 v2" "HTTP on the new port"
expect_eq "$(curl -s --max-time 5 --cacert "$tls/ca.pem" --resolve "$a.test:$sport:127.0.0.1" "https://$a.test:$sport/")" \
    "v1" "HTTPS on the same port, certificates carried over"

# 6. A stopped environment answers 503 at the edge, and again once it serves.
pallet stop "$b"
expect_eq "$(through "new-$b.test" | cut -d' ' -f1)" "503" "a stopped environment: 503 at the edge"
pallet serve "$b" pallet-conformance:v2
expect_eq "$(through "new-$b.test")" "200 v2" "served again: the edge sends it requests again"

# 7. ACME: Debian's pebble (Let's Encrypt's test server) in a container on the host's network,
# told that d's domain is 127.0.0.1 and to check HTTP-01 answers on the edge's HTTP port; the
# plugin's ACME client from an image that trusts the test CA (pebble's HTTPS certificate).
d="$(env_name d)"
pp="$(free_port)"; pm="$(free_port)"
certificate pebble localhost
cat >"$tls/pebble.json" <<JSON
{"pebble": {"listenAddress": "127.0.0.1:$pp", "managementListenAddress": "127.0.0.1:$pm",
  "certificate": "/cfg/pebble.pem", "privateKey": "/cfg/pebble.key",
  "httpPort": $port2, "tlsPort": $(free_port), "ocspResponderURL": "", "externalAccountBindingRequired": false}}
JSON
"$DOCKER" run -d --name "$pebble" --network host --add-host "$d.test:127.0.0.1" -v "$tls:/cfg:ro" \
    -e PEBBLE_VA_NOSLEEP=1 -e PEBBLE_WFE_NONCEREJECT=0 pallet-test-pebble:1 -config /cfg/pebble.json >/dev/null
mkdir "$tls/lego" && cp "$tls/ca.pem" "$tls/lego/ca.crt"
printf 'FROM pallet-test-lego:1\nCOPY ca.crt /usr/local/share/ca-certificates/pallet-test.crt\nRUN update-ca-certificates\n' |
    "$DOCKER" build -q -t "$lego_image" -f - "$tls/lego" >/dev/null
export PALLET_ACME_IMAGE="$lego_image"
for _ in $(seq 50); do curl -s --cacert "$tls/ca.pem" "https://localhost:$pm/roots/0" >"$tls/pebble-root.pem" && break; sleep 0.2; done
expect_contains "$(cat "$tls/pebble-root.pem")" "BEGIN CERTIFICATE" "pebble runs; its root certificate"
directory="https://localhost:$pp/dir"

pallet env create "$d" --site-domain "$d.test" --tls acme --acme-directory "$directory"
expect_contains "$CODE:$ERR" "125:" "--tls acme without --acme-email: refused"
expect_contains "$ERR" "--tls acme needs --acme-email" "the error says what is missing"
pallet env create "$d" --site-domain "$d.test" --tls acme --acme-email "ops@$d.test" --acme-directory "http://localhost:$pp/dir"
expect_contains "$CODE:$ERR" "125:docker-pallet: invalid --acme-directory" "a directory that is not https: refused"
pallet env create "$d" --tls acme --acme-email "ops@$d.test"
expect_contains "$CODE:$ERR" "125:docker-pallet: --tls acme needs the site's own domain" "ACME for localhost: refused"
pallet env create "$d" --site-domain "$d.test" --tls-cert "$tls/a.pem" --tls-key "$tls/a.key" --tls acme
expect_contains "$CODE:$ERR" "125:docker-pallet: --tls acme and --tls-cert: give one of them" "both ways at once: refused"
pallet env ls -q
expect_not_contains "$OUT" "$d" "nothing was created"

pallet env create "$d" --site-domain "$d.test" --site-protocol https --port none --drain 1s --health-timeout 15s \
    --tls acme --acme-email "ops@$d.test" --acme-directory "$directory"
expect_eq "$CODE" "0" "an ACME environment behind the edge: created"
expect_contains "$ERR" "$d has a certificate from $directory until" "its certificate came at once (the edge runs)"
pallet release "$d" pallet-conformance:headers
expect_eq "$CODE" "0" "release d"
d_https=(--max-time 5 --cacert "$tls/pebble-root.pem" --resolve "$d.test:$sport:127.0.0.1")
expect_eq "$(curl -s "${d_https[@]}" "https://$d.test:$sport/cgi-bin/headers")" \
    "$(printf 'proto=https\nhost=%s' "$d.test:$sport")" "the ACME certificate verifies against pebble's root; d answers"
expect_eq "$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $d.test" "$edge")" "308" "HTTP to d: 308 to HTTPS"
"$DOCKER" exec pallet-edge sh -c 'mkdir -p /pallet/acme/webroot/.well-known/acme-challenge && echo token > /pallet/acme/webroot/.well-known/acme-challenge/t1'
expect_eq "$(curl -s --max-time 5 -H "Host: $d.test" "${edge}.well-known/acme-challenge/t1")" "token" \
    "yet ACME's challenges are answered on HTTP"
expect_eq "$("$DOCKER" port "pallet-$d-router" | sed 's/.* -> //; s/:[0-9]*$//' | sort -u)" "127.0.0.1" \
    "--port none: its router listens on 127.0.0.1 only, for the edge"
pallet status "$d"
expect_contains "$OUT" "HTTPS of $d: a certificate valid until" "status shows until when"
expect_contains "$OUT" "(ACME)" "and that ACME renews it"
serial() { openssl s_client -connect "127.0.0.1:$sport" -servername "$d.test" </dev/null 2>/dev/null | openssl x509 -noout -serial; }
first="$(serial)"
pallet edge renew
expect_eq "$CODE" "0" "edge renew"
expect_contains "$ERR" "$d: the certificate is valid until" "a certificate that is not due is kept"
expect_eq "$(serial)" "$first" "the same certificate is served"

url="https://127.0.0.1:$sport/"; LOAD_HOST="$d.test"; LOAD_CACERT="$tls/pebble-root.pem"
under_load edge renew --force
expect_eq "$CODE" "0" "edge renew --force under HTTPS load"
expect_eq "$(field '["failures"]')" "0" "renewal: 0 failed of $(field '["requests"]') HTTPS requests"
renewed="$(serial)"
expect_eq "$([ -n "$renewed" ] && [ "$renewed" != "$first" ] && echo new)" "new" "a new certificate is served"
LOAD_HOST=""; LOAD_CACERT=""

"$DOCKER" stop "$pebble" >/dev/null
pallet edge renew --force
expect_eq "$CODE" "1" "renewal with the ACME server gone: fails"
expect_contains "$ERR" "warning: $d: the ACME server issued no certificate for $d.test" "and says so"
pallet status "$d" --format json
expect_contains "$OUT" '"Failure":"20' "status shows the failure, with its time"
expect_eq "$(serial)" "$renewed" "the certificate before keeps serving"
pallet env update "$d" --alias "www-$d.test"
expect_eq "$CODE" "1" "a new alias needs a certificate the ACME server does not give: refused"
expect_contains "$ERR" "$d was left as it was" "the error says nothing changed"
expect_not_contains "$("$DOCKER" pallet env show "$d" --format json)" "www-$d.test" "no alias was added"
expect_eq "$(curl -s "${d_https[@]}" "https://$d.test:$sport/")" "v1" "d still answers over HTTPS"

# 8. edge down: the environments stay on their own ports.
volume="$("$DOCKER" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' pallet-edge)"
pallet edge down
expect_eq "$CODE" "0" "edge down"
expect_eq "$("$DOCKER" ps -aq --filter name=^pallet-edge$)" "" "no edge container is left"
expect_eq "$("$DOCKER" volume ls -q --filter "name=^$volume$")" "" "nor its configuration's volume"
expect_eq "$(curl -s --max-time 5 "$(env_url "$a")")" "v1" "a still answers on its own port"
for e in "$a" "$b" "$d"; do pallet rm "$e" --volumes; done
