# An SSH server on 127.0.0.1 in front of the suite's own engine, for remote-engine tests and
# benchmarks: a key made for the run, a Host block of its own in the passwd home's
# ~/.ssh/config (docker's ssh reads that one, not $HOME's), all removed by ssh_down.
# Source after lib.sh (or with SSH_DIR and a log function); then ssh_up ALIAS [PORT].

ssh_home() { getent passwd "$(id -un)" | cut -d: -f6; }

# ssh_up ALIAS: starts sshd on a free port and writes the Host block; sets SSH_PORT, SSH_DIR.
ssh_up() {
    local alias="$1" home
    command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || { echo "openssh-server is missing" >&2; return 1; }
    SSH_ALIAS="$alias"
    SSH_DIR="$(mktemp -d /tmp/pallet-ssh.XXXXXX)"
    ssh-keygen -q -t ed25519 -N '' -C "pallet-$alias" -f "$SSH_DIR/key"
    ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/wrong_key"  # never authorized
    cp "$SSH_DIR/key.pub" "$SSH_DIR/authorized_keys"
    SSH_PORT="${2:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
    mkdir -p /run/sshd
    ssh_start_server
    home="$(ssh_home)"
    mkdir -p "$home/.ssh"; chmod 700 "$home/.ssh"
    cat >>"$home/.ssh/config" <<EOF
# pallet-test $alias begin
Host $alias $alias-wrong-key
  HostName 127.0.0.1
  Port $SSH_PORT
  User $(id -un)
  IdentitiesOnly yes
  StrictHostKeyChecking no
  UserKnownHostsFile /dev/null
  LogLevel ERROR
Host $alias
  IdentityFile $SSH_DIR/key
Host $alias-wrong-key
  IdentityFile $SSH_DIR/wrong_key
# pallet-test $alias end
EOF
    chmod 600 "$home/.ssh/config"
}

# (Re)starts sshd on SSH_PORT; its pid in SSH_PID. SSH_SET_ENV="NAME=VALUE": a variable its
# sessions get (as a remote user's profile would set it).
ssh_start_server() {
    /usr/sbin/sshd -p "$SSH_PORT" -o ListenAddress=127.0.0.1 -o HostKey="$SSH_DIR/host_key" \
        -o PidFile="$SSH_DIR/sshd.pid" -o AuthorizedKeysFile="$SSH_DIR/authorized_keys" \
        -o PasswordAuthentication=no -o StrictModes=no -o MaxStartups=100:30:200 -o MaxSessions=100 \
        ${SSH_SET_ENV:+-o "SetEnv=$SSH_SET_ENV"}
    local i
    for i in $(seq 1 50); do [ -s "$SSH_DIR/sshd.pid" ] && break; sleep 0.1; done
    SSH_PID="$(cat "$SSH_DIR/sshd.pid")"
}

# Stops sshd and every connection it serves (a dropped connection, as the network would).
# (Under set -e too: nothing to kill is no failure.)
ssh_stop_server() {
    pkill -9 -P "$SSH_PID" 2>/dev/null || true
    kill -9 "$SSH_PID" 2>/dev/null || true
    rm -f "$SSH_DIR/sshd.pid"
}

ssh_down() {
    [ -n "${SSH_DIR:-}" ] || return 0
    ssh_stop_server
    local home; home="$(ssh_home)"
    sed -i "/^# pallet-test $SSH_ALIAS begin$/,/^# pallet-test $SSH_ALIAS end$/d" "$home/.ssh/config"
    rm -rf "$SSH_DIR"
    SSH_DIR=""
}

# The ssh processes of the plugin's connections (their ControlPath is in a docker-pallet directory).
plugin_ssh_processes() { pgrep -f 'ControlPath=.*docker-pallet' || true; }
