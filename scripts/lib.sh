# Helpers shared by install.sh, test.sh and the example: packages and the Docker engine.

BUILD_PACKAGES=(g++ cmake make pkg-config libcli11-dev libboost-dev libboost-filesystem-dev
                nlohmann-json3-dev libfmt-dev liburiparser-dev libssl-dev)
TEST_PACKAGES=(libgtest-dev libgmock-dev docker.io debootstrap busybox-static curl procps python3 faketime openssl bash-completion dpkg-dev file
               clang clang-format libclang-rt-14-dev openssh-server openssh-client tmux fish)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the Debian packages of the list that are missing.
install_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Starts dockerd when no engine answers (and we may); waits until it does.
start_engine() {
    docker info >/dev/null 2>&1 && return 0
    command -v dockerd >/dev/null || install_packages docker.io
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        as_root rm -f /var/run/docker.pid
    fi
    echo "starting a Docker engine (log: /tmp/dockerd.log)" >&2
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        as_root systemctl start docker || true
    fi
    docker info >/dev/null 2>&1 || as_root sh -c 'nohup dockerd >/tmp/dockerd.log 2>&1 &'
    local _
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "the Docker engine did not start; see /tmp/dockerd.log" >&2
    return 1
}
