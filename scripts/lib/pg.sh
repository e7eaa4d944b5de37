# Shared settings for the local PostgreSQL cluster. Sourced by scripts/db-up, db-down, test, demo.
# Every value can be overridden from the environment:
#   GIGLEDGER_PGDATA   data folder          (default: <repo>/.gigledger/pg, or /tmp/gigledger-<hash>/pg
#                                            when the postgres user cannot reach the checkout)
#   GIGLEDGER_PGPORT   port                 (default: 54000 + a number derived from the data folder)
#   GIGLEDGER_PGDB     database name        (default: gigledger)
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
GL_PORT=${GIGLEDGER_PGPORT:-$((54000 + $(gl_hash "$GL_PGDATA") % 900))}
GL_DB=${GIGLEDGER_PGDB:-gigledger}
GL_URL="postgresql:///$GL_DB?host=$GL_SOCKDIR&port=$GL_PORT&user=postgres"
GL_URL_FILE="$GL_ROOT/.gigledger/database-url"

# Runs a server binary as the user that owns the cluster.
gl_as_owner() {
    if [ "$GL_IS_ROOT" = 1 ]; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

gl_ready() {
    pg_isready -q -h "$GL_SOCKDIR" -p "$GL_PORT" -U postgres -d postgres >/dev/null 2>&1
}
