#!/usr/bin/env bash
# The remote-engine benchmark: sshd on 127.0.0.1 (a key and Host blocks of its own, removed at
# the end), a latency proxy in front of it, then bench/ssh_bench.py. Run by bench/run.sh, which
# installs the plugin into DOCKER_CONFIG and sets PALLET_BINARY.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/lib.sh"
install_packages openssh-server openssh-client
source "$repo/tests/e2e/ssh_lib.sh"
ssh_up "pallet-bench-$$"
slow_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$repo/bench/latency_proxy.py" "$slow_port" "$SSH_PORT" 25 & proxy=$!
home="$(ssh_home)"
cat >>"$home/.ssh/config" <<EOF2
# pallet-test pallet-bench-slow-$$ begin
Host pallet-bench-slow-$$
  HostName 127.0.0.1
  Port $slow_port
  User $(id -un)
  IdentityFile $SSH_DIR/key
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
# pallet-test pallet-bench-slow-$$ end
EOF2
cleanup() {
    kill "$proxy" 2>/dev/null || true
    sed -i "/^# pallet-test pallet-bench-slow-$$ begin$/,/^# pallet-test pallet-bench-slow-$$ end$/d" "$home/.ssh/config"
    ssh_down
}
trap cleanup EXIT
SSH_ALIAS="pallet-bench-$$" SSH_SLOW_ALIAS="pallet-bench-slow-$$" python3 "$repo/bench/ssh_bench.py" "$@"
