#!/bin/bash
# The first start on an empty volume makes the cluster: POSTGRES_USER (default postgres) with
# POSTGRES_PASSWORD, which is required, and the database POSTGRES_DB (default: the user's name);
# then, and on every later start, PostgreSQL listening on every address of the container.
set -euo pipefail
: "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}"
user=${POSTGRES_USER:-postgres}
database=${POSTGRES_DB:-$user}
if [[ ! -s $PGDATA/PG_VERSION ]]; then
    initdb --pgdata="$PGDATA" --username="$user" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 \
        --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") >/dev/null
    echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
    if [[ $database != postgres ]]; then
        # Single-user mode takes SQL on standard input; a name with a quote is refused by initdb
        # already, and `"` is doubled here.
        printf 'CREATE DATABASE "%s" OWNER "%s";\n' "${database//\"/\"\"}" "${user//\"/\"\"}" |
            postgres --single -D "$PGDATA" -j postgres >/dev/null
    fi
    echo "postgres-entrypoint: cluster made in $PGDATA (database $database, user $user)"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/run/postgresql "$@"
