# Shared settings for the local PostgreSQL cluster. Sourced by scripts/db-up, db-down, test, demo.
# Every value can be overridden from the environment:
#   GIGLEDGER_PGDATA   data folder          (default: <repo>/.gigledger/pg, or /tmp/gigledger-<hash>/pg
#                                            when the postgres user cannot reach the checkout)
#   GIGLEDGER_PGPORT   port                 (default: the one recorded in <state>/port, else 54000 + a
#                                            number derived from the data folder, or the next free one)
#   GIGLEDGER_PGDB     database name        (default: gigledger)
#   GIGLEDGER_REPLICA_PORT  the hot standby's port (default: the primary's + 900)
#   GIGLEDGER_URL_FILE where db-up records the primary's URL for gigctl (default: <repo>/.gigledger/database-url)
# Beside the data folder, in the same git-ignored area: replica/ (the hot standby, scripts/db-up
# --replica), wal-archive/ (archived WAL, once scripts/backup has turned archiving on) and
# backups/ (base backups).
set -euo pipefail

GL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GL_IS_ROOT=0
[ "$(id -u)" = 0 ] && GL_IS_ROOT=1

gl_die() { echo "error: $*" >&2; exit 1; }

gl_find_bindir() {
    local dir=""
    if command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir 2>/dev/null || true); fi
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ]; then
        for candidate in /usr/lib/postgresql/*/bin; do
            [ -x "$candidate/pg_ctl" ] && dir=$candidate
        done
    fi
    if [ -z "$dir" ] || [ ! -x "$dir/pg_ctl" ] || [ ! -x "$dir/initdb" ]; then
        gl_die "PostgreSQL server binaries (initdb, pg_ctl) were not found.
Install them, then run this again:
    Debian/Ubuntu:  apt-get update && apt-get install -y postgresql-15 libpq-dev pkg-config
                    (or run scripts/install-deps as root)
    Or point DATABASE_URL at an existing PostgreSQL 15+ server and skip the local cluster."
    fi
    echo "$dir"
}

# Can the postgres user traverse every parent of $1?
gl_postgres_can_reach() {
    [ "$GL_IS_ROOT" = 1 ] || return 0
    id postgres >/dev/null 2>&1 || gl_die "running as root, but there is no 'postgres' user to run the server as (apt-get install postgresql-15 creates it)."
    (cd / && runuser -u postgres -- test -x "$1") 2>/dev/null
}

gl_hash() { printf '%s' "$1" | cksum | cut -d' ' -f1; }

if [ -n "${GIGLEDGER_PGDATA:-}" ]; then
    GL_STATE=$(dirname "$GIGLEDGER_PGDATA")
    GL_PGDATA=$GIGLEDGER_PGDATA
else
    GL_STATE="$GL_ROOT/.gigledger"
    if ! gl_postgres_can_reach "$GL_ROOT"; then
        GL_STATE="/tmp/gigledger-$(gl_hash "$GL_ROOT")"
    fi
    GL_PGDATA="$GL_STATE/pg"
fi
GL_SOCKDIR="$GL_STATE/sock"
# A Unix socket path must stay under ~100 bytes.
if [ ${#GL_SOCKDIR} -gt 80 ]; then GL_SOCKDIR="/tmp/gigledger-sock-$(gl_hash "$GL_PGDATA")"; fi
GL_DB=${GIGLEDGER_PGDB:-gigledger}
GL_URL_FILE=${GIGLEDGER_URL_FILE:-"$GL_ROOT/.gigledger/database-url"}
GL_REPLICA_DATA="$GL_STATE/replica"
# The port the cluster was last started on (db-up records it: the derived port may have been
# taken by another program, and then db-up chose the next free one).
GL_PORT_FILE="$GL_STATE/port"

# Sets the port and everything derived from it: gl_use_port PORT
gl_use_port() {
    GL_PORT=$1
    GL_URL="postgresql:///$GL_DB?host=$GL_SOCKDIR&port=$GL_PORT&user=postgres"
    GL_REPLICA_PORT=${GIGLEDGER_REPLICA_PORT:-$((GL_PORT + 900))}
    GL_REPLICA_URL="postgresql:///$GL_DB?host=$GL_SOCKDIR&port=$GL_REPLICA_PORT&user=postgres"
}

# Does anything accept TCP connections on 127.0.0.1:PORT?
gl_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ -n "${GIGLEDGER_PGPORT:-}" ]; then
    gl_use_port "$GIGLEDGER_PGPORT"
elif [ -s "$GL_PORT_FILE" ]; then
    gl_use_port "$(cat "$GL_PORT_FILE")"
else
    gl_use_port $((54000 + $(gl_hash "$GL_PGDATA") % 900))
fi

# Before starting the cluster: when its port is taken by another server (another checkout's
# cluster, say) and no port was asked for, moves to the next free port in 54000-54899 and records
# it. A port given in GIGLEDGER_PGPORT is kept (starting then fails with the server's own message).
gl_choose_free_port() {
    if [ -z "${GIGLEDGER_PGPORT:-}" ] && gl_port_in_use "$GL_PORT"; then
        local base=$GL_PORT candidate i
        for i in $(seq 1 899); do
            candidate=$((54000 + (base - 54000 + i) % 900))
            if ! gl_port_in_use "$candidate" && ! gl_port_in_use $((candidate + 900)); then
                echo "Port $base is taken by another server; using $candidate." >&2
                gl_use_port "$candidate"
                break
            fi
        done
    fi
    if [ -z "${GIGLEDGER_PGPORT:-}" ]; then echo "$GL_PORT" >"$GL_PORT_FILE"; fi
}
# The primary keeps the WAL the standby has not received yet for this slot.
GL_REPLICA_SLOT=gigledger_replica
GL_ARCHIVE="$GL_STATE/wal-archive"
GL_BACKUPS="$GL_STATE/backups"
# archive_command while archiving is off: archive_mode stays on (changing it needs a restart), and
# each finished WAL segment is reported as archived and recycled as usual.
GL_ARCHIVE_OFF=true

# Runs a server binary as the user that owns the cluster.
gl_as_owner() {
    if [ "$GL_IS_ROOT" = 1 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

gl_ready() { gl_ready_on "$GL_PORT"; }

gl_ready_on() {
    pg_isready -q -h "$GL_SOCKDIR" -p "$1" -U postgres -d postgres >/dev/null 2>&1
}

# psql as the superuser on the local socket: gl_psql PORT [psql arguments...] (quiet, unaligned,
# stops at the first error). SQL goes in through stdin or -c with psql variables for values.
gl_psql() {
    local port=$1
    shift
    psql -X -q -tA -v ON_ERROR_STOP=1 -h "$GL_SOCKDIR" -p "$port" -U postgres -d postgres "$@"
}

# Makes a folder the server's user may write (as root: owned by postgres).
gl_owned_dir() {
    mkdir -p "$1"
    if [ "$GL_IS_ROOT" = 1 ]; then chown postgres "$1"; fi
    chmod "${2:-700}" "$1"
}

# Starts the server of data folder $1 on port $2 unless it is running; waits until it accepts
# connections. A stale postmaster.pid (after a crash or kill -9) that names a process that is gone
# or not ours is removed first.
gl_start_server() {
    local data=$1 port=$2 bin
    bin=$(gl_find_bindir)
    if gl_ready_on "$port"; then return 0; fi
    if [ -f "$data/postmaster.pid" ]; then
        local pid
        pid=$(head -1 "$data/postmaster.pid")
        if ! { [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$data"; }; then
            rm -f "$data/postmaster.pid"
        fi
    fi
    gl_as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 120 \
        -o "-p $port -k $GL_SOCKDIR" start >/dev/null \
        || gl_die "PostgreSQL did not start; see $data/server.log"
    for _ in $(seq 1 100); do gl_ready_on "$port" && break; sleep 0.1; done
    gl_ready_on "$port" || gl_die "PostgreSQL started but does not accept connections; see $data/server.log"
}

# Stops the server of data folder $1 (fast shutdown) if it runs on port $2.
gl_stop_server() {
    local data=$1 port=$2 bin
    bin=$(gl_find_bindir)
    if [ -f "$data/postmaster.pid" ] && gl_ready_on "$port"; then
        gl_as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 120 stop >/dev/null
        return 0
    fi
    return 1
}

# Lets the local cluster feed a hot standby and archive WAL, for clusters created before this was
# part of scripts/db-up too: a `local replication` line in pg_hba.conf, and (with ALTER SYSTEM)
# wal_level replica, archive_mode on with archiving off ($GL_ARCHIVE_OFF), a few WAL senders and
# slots, and a cap on the WAL a forgotten slot may keep. Reloads when something changed; restarts
# only when a setting that needs it (wal_level, archive_mode, max_wal_senders,
# max_replication_slots) changed. A cluster set up already is left alone.
gl_prepare_wal() {
    local reload=0 restart=0 name value
    if ! grep -Eq '^[[:space:]]*local[[:space:]]+replication[[:space:]]' "$GL_PGDATA/pg_hba.conf"; then
        printf 'local   replication   postgres           trust\n' >>"$GL_PGDATA/pg_hba.conf"
        reload=1
    fi
    declare -A current=()
    while IFS='|' read -r name value; do current[$name]=$value; done < <(gl_psql "$GL_PORT" -c \
        "SELECT name, setting FROM pg_settings WHERE name IN ('wal_level', 'archive_mode', 'archive_command', 'max_wal_senders', 'max_replication_slots', 'max_slot_wal_keep_size')")
    gl_alter_system() {
        echo "ALTER SYSTEM SET $1 = :'value'" | gl_psql "$GL_PORT" -v value="$2" >/dev/null
    }
    if [ "${current[wal_level]}" = minimal ]; then gl_alter_system wal_level replica; restart=1; fi
    if [ "${current[archive_mode]}" = off ]; then gl_alter_system archive_mode on; restart=1; fi
    # (While archive_mode is off the server shows archive_command as "(disabled)": it is checked
    # again after the restart.)
    if [ -z "${current[archive_command]}" ]; then gl_alter_system archive_command "$GL_ARCHIVE_OFF"; reload=1; fi
    if [ "${current[max_wal_senders]}" -lt 4 ]; then gl_alter_system max_wal_senders 10; restart=1; fi
    if [ "${current[max_replication_slots]}" -lt 4 ]; then gl_alter_system max_replication_slots 10; restart=1; fi
    if [ "${current[max_slot_wal_keep_size]}" = -1 ]; then gl_alter_system max_slot_wal_keep_size 10GB; reload=1; fi
    if [ "$restart" = 1 ]; then
        echo "Restarting PostgreSQL once, to allow replication and WAL archiving (wal_level, archive_mode) ..." >&2
        gl_stop_server "$GL_PGDATA" "$GL_PORT" || true
        gl_start_server "$GL_PGDATA" "$GL_PORT"
        gl_prepare_wal
    elif [ "$reload" = 1 ]; then
        gl_psql "$GL_PORT" -c "SELECT pg_reload_conf()" >/dev/null
    fi
}

# Starts the hot standby (scripts/db-up --replica), cloning the running primary on first use:
# pg_basebackup with WAL streamed through the replication slot $GL_REPLICA_SLOT and -R (which
# writes standby.signal, primary_conninfo and primary_slot_name), into a folder renamed into place
# only when complete. A standby cloned from an earlier incarnation of the cluster (re-created
# since) can never follow it and is cloned again: it holds nothing of its own.
gl_start_replica() {
    local bin primary_id replica_id tmp
    bin=$(gl_find_bindir)
    if [ -s "$GL_REPLICA_DATA/PG_VERSION" ]; then
        primary_id=$(gl_psql "$GL_PORT" -c "SELECT system_identifier FROM pg_control_system()")
        replica_id=$(LC_ALL=C gl_as_owner "$bin/pg_controldata" "$GL_REPLICA_DATA" \
            | sed -n 's/^Database system identifier: *//p')
        if [ "$primary_id" != "$replica_id" ]; then
            echo "The standby in $GL_REPLICA_DATA was cloned from another cluster; cloning it again ..." >&2
            gl_stop_server "$GL_REPLICA_DATA" "$GL_REPLICA_PORT" || true
            rm -rf "$GL_REPLICA_DATA"
        fi
    fi
    if [ ! -s "$GL_REPLICA_DATA/PG_VERSION" ]; then
        echo "Cloning the cluster into a hot standby in $GL_REPLICA_DATA ..." >&2
        echo "SELECT pg_create_physical_replication_slot(:'slot') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = :'slot')" \
            | gl_psql "$GL_PORT" -v slot="$GL_REPLICA_SLOT" >/dev/null
        tmp="$GL_REPLICA_DATA.partial"
        rm -rf "$tmp"
        gl_owned_dir "$tmp" 700
        gl_as_owner "$bin/pg_basebackup" -D "$tmp" -h "$GL_SOCKDIR" -p "$GL_PORT" -U postgres \
            -X stream -S "$GL_REPLICA_SLOT" -R -c fast >"$GL_STATE/replica-basebackup.log" 2>&1 \
            || gl_die "pg_basebackup failed; see $GL_STATE/replica-basebackup.log"
        # The primary's log came along with its data folder.
        rm -f "$tmp/server.log"
        cat >>"$tmp/postgresql.conf" <<CONF

# --- GigLedger hot standby (scripts/db-up --replica) ---
port = $GL_REPLICA_PORT
hot_standby = on
# The standby tells the primary which rows its queries still read, so the primary's vacuum
# does not remove them and readers on the standby are not cancelled (costs some bloat on the
# primary while a long query runs here).
hot_standby_feedback = on
CONF
        mv "$tmp" "$GL_REPLICA_DATA"
    fi
    if gl_ready_on "$GL_REPLICA_PORT"; then
        echo "The hot standby is already running on port $GL_REPLICA_PORT." >&2
    else
        echo "Starting the hot standby on port $GL_REPLICA_PORT ..." >&2
        gl_start_server "$GL_REPLICA_DATA" "$GL_REPLICA_PORT"
    fi
    [ "$(gl_psql "$GL_REPLICA_PORT" -c "SELECT pg_is_in_recovery()")" = t ] \
        || gl_die "the server in $GL_REPLICA_DATA (port $GL_REPLICA_PORT) is not a standby (was it promoted?).
Delete it with scripts/db-down --replica --destroy, then run scripts/db-up --replica again."
}

# The archive_command that keeps each finished WAL segment in $GL_ARCHIVE: copied under a
# temporary name and renamed, so a crash never leaves a partial segment under the real name; a
# segment archived before is accepted only if identical (PostgreSQL may retry one after a crash).
gl_archive_command() {
    case "$GL_ARCHIVE" in *"'"*) gl_die "the archive folder's path must not contain a single quote: $GL_ARCHIVE" ;; esac
    echo "f='$GL_ARCHIVE/%f'; if [ -f \"\$f\" ]; then cmp -s %p \"\$f\"; else cp %p \"\$f.part\" && mv \"\$f.part\" \"\$f\"; fi"
}

# Asks the running primary to finish its current WAL segment and waits (up to 60 s) until the
# archive holds it, so every commit up to now can be restored. Also proves the archiver runs the
# current archive_command (a reload reaches the archiver a moment later: it retries the switch).
gl_archive_now() {
    local segment
    for _ in $(seq 1 60); do
        segment=$(gl_psql "$GL_PORT" -c "SELECT pg_walfile_name(pg_switch_wal()) FROM pg_create_restore_point('gigledger-archive-now')")
        for _ in $(seq 1 10); do
            [ -f "$GL_ARCHIVE/$segment" ] && return 0
            sleep 0.1
        done
    done
    gl_die "WAL segment $segment did not reach $GL_ARCHIVE within 60 s; see pg_stat_archiver and $GL_PGDATA/server.log"
}
