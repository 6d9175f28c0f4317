#!/usr/bin/env bash
# The machine set-up of `make test`: the Debian packages the tests need, and
# PostgreSQL, MariaDB and RabbitMQ answering on 127.0.0.1. Run it again at
# will: it installs only what is missing and starts only what is stopped.
#
# Packages: TEST_DEBIAN_PACKAGES (the Makefile sets it). A package counts as
# present when dpkg has it installed or a command of its name is on PATH;
# python3-venv when python3 can create a venv. Missing ones are installed with
# apt-get when this runs as root or with FERRY_INSTALL_DEPS=1 (through sudo);
# otherwise the script prints the apt-get line and exits 1.
#
# Services: one that is installed but not answering on its port is started
# (as root) and waited for. One that cannot be had: with CI=true the script
# exits 1, as the tests that need it would fail; otherwise it says so and the
# tests that need it skip, each with its reason.
set -euo pipefail

read -r -a PACKAGES <<<"${TEST_DEBIAN_PACKAGES:?the Makefile sets TEST_DEBIAN_PACKAGES}"
CI_RUN=false
case "${CI:-}" in 1 | true | TRUE | True | yes) CI_RUN=true ;; esac

say() { printf '%s\n' "$*"; }
fail() { printf 'make test: %s\n' "$*" >&2; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# -- Debian packages ---------------------------------------------------------

present() {
  local package=$1
  if [[ $package == python3-venv ]]; then
    python3 -c 'import ensurepip, venv' 2>/dev/null
    return
  fi
  command -v "$package" >/dev/null 2>&1 && return 0
  [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) == "install ok installed" ]]
}

install_packages() {
  local missing=() package
  for package in "${PACKAGES[@]}"; do
    present "$package" || missing+=("$package")
  done
  if ((${#missing[@]} == 0)); then
    say "Debian packages: ${PACKAGES[*]} present"
    return
  fi
  local line="apt-get install -y --no-install-recommends ${missing[*]}"
  local sudo=()
  if ! is_root; then
    [[ ${FERRY_INSTALL_DEPS:-} == 1 ]] || fail "the tests need these Debian packages: ${missing[*]}
  install them:  sudo $line
  (or run make test as root, or with FERRY_INSTALL_DEPS=1 to let it use sudo)"
    sudo=(sudo)
  fi
  say "Debian packages: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  for package in "${missing[@]}"; do
    present "$package" || fail "$package is still missing after: $line"
  done
}

# -- services ----------------------------------------------------------------

answers() {  # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

wait_port() {  # name port seconds
  local deadline=$((SECONDS + $3))
  until answers 127.0.0.1 "$2"; do
    ((SECONDS < deadline)) || fail "$1 was started but does not answer on 127.0.0.1:$2 after $3 s"
    sleep 1
  done
}

# A service the tests cannot have: fatal under CI, a warning otherwise.
unavailable() {  # name why
  if $CI_RUN; then
    fail "$1 is needed and $2 (CI=true: its tests would fail)"
  fi
  say "$1: $2; the tests that need it will be skipped"
}

postgresql_installed() { [[ -d /etc/postgresql ]] && command -v pg_ctlcluster >/dev/null; }
postgresql_start() {
  local version
  for version in /etc/postgresql/*/; do
    version=$(basename "$version")
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  done
}
postgresql_start_line() { echo "pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"; }

mariadb_installed() { [[ -x /usr/sbin/mariadbd ]]; }
mariadb_start() {
  # mariadbd runs as the user of its configuration ([mysqld] user = mysql)
  # and keeps its socket and pid file in /run/mysqld, which a reboot empties.
  install -d -o mysql -g mysql -m 0755 /run/mysqld
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
}
mariadb_start_line() { echo "start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd"; }

rabbitmq_installed() { command -v rabbitmq-server >/dev/null && command -v rabbitmqctl >/dev/null; }
rabbitmq_start() {
  # A node that is still booting refuses a second start; await_startup
  # then waits for it all the same, and fails for a node that is not there.
  rabbitmq-server -detached || true
  timeout 120 rabbitmqctl await_startup >/dev/null
}
rabbitmq_start_line() { echo "rabbitmq-server -detached"; }

# name, function prefix, port, seconds to wait, Debian package
SERVICES=(
  "PostgreSQL postgresql 5432 60 postgresql"
  "MariaDB mariadb 3306 60 mariadb-server"
  "RabbitMQ rabbitmq 5672 120 rabbitmq-server"
)

start_services() {
  local entry name fn port seconds package
  for entry in "${SERVICES[@]}"; do
    read -r name fn port seconds package <<<"$entry"
    if answers 127.0.0.1 "$port"; then
      say "$name: up on 127.0.0.1:$port"
      continue
    fi
    if ! "${fn}_installed"; then
      unavailable "$name" "is not installed (apt-get install $package)"
      continue
    fi
    if ! is_root; then
      unavailable "$name" "is installed but stopped; start it as root: $("${fn}_start_line")"
      continue
    fi
    say "$name: stopped; starting it"
    "${fn}_start" || fail "$name did not start: $("${fn}_start_line") failed"
    wait_port "$name" "$port" "$seconds"
    say "$name: up on 127.0.0.1:$port"
  done
}

install_packages
start_services
