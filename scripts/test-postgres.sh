#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite.
#
#   scripts/test-postgres.sh start        start one (or reuse the running one); print its URL
#   scripts/test-postgres.sh url          print the running server's URL
#   scripts/test-postgres.sh stop         stop it and delete its files
#   scripts/test-postgres.sh status       say whether it runs
#   scripts/test-postgres.sh run CMD...   start a private server, run CMD with
#                                         CAREPOOL_TEST_POSTGRES_URL set, stop the server
#                                         whatever happens, exit with CMD's status
#
# The cluster lives in a fresh temporary directory (in memory where there is room), listens only on 127.0.0.1 on a free port,
# trusts every local connection (it holds nothing but test data) and has a database
# `carepool_test` owned by the superuser `postgres`. Durability is switched off for speed.
# Its whereabouts are kept in .test-run/<name>.env in the repository (gitignored); the name is
# `postgres` unless CAREPOOL_TEST_PG_NAME says otherwise, so separate runs can have their own.
#
# PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` system user
# (made by Debian's postgresql package) and its programs run through runuser.
set -euo pipefail

self="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
repo_root="$(dirname "$(dirname "$self")")"
state_dir="$repo_root/.test-run"
name="${CAREPOOL_TEST_PG_NAME:-postgres}"
state_file="$state_dir/$name.env"
database="carepool_test"
superuser="postgres"

say() { printf 'test-postgres: %s\n' "$*" >&2; }
die() {
    say "$*"
    exit 1
}

find_bindir() {
    local candidate
    # Debian keeps the server programs off PATH, one folder per major version; take the newest.
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

# Run a PostgreSQL program as the cluster's owner, from a folder that owner can read.
as_owner() {
    if [[ "$(id -u)" == 0 ]]; then
        (cd "$run_dir" && runuser -u postgres -- "$@")
    else
        (cd "$run_dir" && "$@")
    fi
}

free_port() {
    python3 - <<'PY'
import socket

def bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return None
        return int(s.getsockname()[1])

# The usual port if it is free, else any free one the kernel offers.
print(bindable(55432) or bindable(0))
PY
}

load_state() {
    [[ -f "$state_file" ]] || return 1
    # shellcheck disable=SC1090
    source "$state_file"
    [[ -n "${run_dir:-}" && -n "${port:-}" && -n "${bindir:-}" ]]
}

is_running() {
    load_state || return 1
    [[ -d "$run_dir/data" ]] || return 1
    as_owner "$bindir/pg_ctl" -D "$run_dir/data" status >/dev/null 2>&1
}

save_state() {
    printf 'run_dir=%q\nport=%q\nbindir=%q\n' "$run_dir" "$port" "$bindir" >"$state_file"
}

url() {
    echo "postgresql+psycopg://$superuser@127.0.0.1:$port/$database"
}

# Where the cluster's files go: CAREPOOL_TEST_PG_DIR if set; else memory (/dev/shm) when it
# has room, which makes CREATE DATABASE per test several times faster than a disk; else TMPDIR.
pick_base() {
    local free_kib
    if [[ -n "${CAREPOOL_TEST_PG_DIR:-}" ]]; then
        mkdir -p "$CAREPOOL_TEST_PG_DIR"
        echo "$CAREPOOL_TEST_PG_DIR"
        return
    fi
    if [[ -d /dev/shm && -w /dev/shm ]]; then
        free_kib="$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 {print $4}')"
        if [[ "${free_kib:-0}" -ge 2097152 ]]; then
            echo /dev/shm
            return
        fi
    fi
    echo "${TMPDIR:-/tmp}"
}

make_run_dir() {
    local base dir
    base="$(pick_base)"
    dir="$(mktemp -d "$base/carepool-pg-XXXXXX")"
    if [[ "$(id -u)" == 0 ]]; then
        id postgres >/dev/null 2>&1 ||
            die "no 'postgres' system user to run the server as (install Debian's postgresql)"
        chown postgres: "$dir"
        if ! runuser -u postgres -- test -w "$dir" 2>/dev/null; then
            # TMPDIR is somewhere the postgres user cannot reach (e.g. under /root).
            rmdir "$dir"
            dir="$(mktemp -d /tmp/carepool-pg-XXXXXX)"
            chown postgres: "$dir"
        fi
    fi
    echo "$dir"
}

start() {
    if is_running; then
        say "already running on 127.0.0.1:$port ($state_file)"
        url
        return 0
    fi
    if load_state; then
        say "removing the remains of a server that is no longer running"
        cleanup_files
    fi

    bindir="$(find_bindir)" ||
        die "PostgreSQL server programs (initdb, pg_ctl) not found: run 'make system-deps'"
    run_dir="$(make_run_dir)"
    port="$(free_port)"
    mkdir -p "$state_dir"
    save_state

    if ! as_owner "$bindir/initdb" -D "$run_dir/data" -U "$superuser" --auth=trust \
        --encoding=UTF8 --no-locale --no-sync >"$run_dir/initdb.log" 2>&1; then
        cat "$run_dir/initdb.log" >&2
        cleanup_files
        die "initdb failed"
    fi
    # Appending keeps the file's owner. Unix sockets go in the run folder, not /var/run.
    cat >>"$run_dir/data/postgresql.conf" <<EOF

# carepool throwaway test server
listen_addresses = '127.0.0.1'
unix_socket_directories = '$run_dir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
logging_collector = off
EOF
    # The port was free a moment ago; if something took it since, try another.
    local attempt
    for attempt in 1 2 3; do
        if as_owner "$bindir/pg_ctl" -D "$run_dir/data" -l "$run_dir/server.log" -o "-p $port" \
            -w -t 60 start >/dev/null; then
            break
        fi
        if [[ "$attempt" == 3 ]]; then
            cat "$run_dir/server.log" >&2 || true
            stop_server
            cleanup_files
            die "the server did not start"
        fi
        say "port $port was taken meanwhile: trying another"
        port="$(free_port)"
        save_state
    done
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$superuser" "$database" ||
        {
            stop_server
            cleanup_files
            die "could not create database $database"
        }
    say "PostgreSQL $("$bindir/pg_ctl" --version | awk '{print $3}') on 127.0.0.1:$port, data in $run_dir"
    url
}

stop_server() {
    as_owner "$bindir/pg_ctl" -D "$run_dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
        as_owner "$bindir/pg_ctl" -D "$run_dir/data" -m immediate -w stop >/dev/null 2>&1 ||
        true
}

cleanup_files() {
    if [[ -n "${run_dir:-}" && "$run_dir" == */carepool-pg-* && -d "$run_dir" ]]; then
        rm -rf -- "$run_dir"
    fi
    rm -f -- "$state_file"
}

stop() {
    if ! load_state; then
        say "no test server recorded in $state_file: nothing to stop"
        return 0
    fi
    if [[ -d "$run_dir/data" ]]; then
        stop_server
    fi
    cleanup_files
    say "stopped and removed $run_dir"
}

case "${1:-}" in
start)
    start
    ;;
stop)
    stop
    ;;
url)
    is_running || die "no test server running (scripts/test-postgres.sh start)"
    url
    ;;
status)
    if is_running; then
        say "running on 127.0.0.1:$port, data in $run_dir"
    else
        say "not running"
        exit 1
    fi
    ;;
run)
    shift
    [[ "${1:-}" == "--" ]] && shift
    [[ $# -gt 0 ]] || die "usage: $0 run COMMAND [ARGS...]"
    export CAREPOOL_TEST_PG_NAME="run-$$"
    trap 'bash "$self" stop' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    CAREPOOL_TEST_POSTGRES_URL="$(bash "$self" start)"
    export CAREPOOL_TEST_POSTGRES_URL
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
*)
    echo "usage: $0 start|stop|url|status|run COMMAND..." >&2
    exit 2
    ;;
esac
