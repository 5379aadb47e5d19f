#!/usr/bin/env bash
# fsdash on one host without containers: N replicas of `python -m fsdash serve` behind nginx
# (deploy/nginx.conf), all reading the same published warehouse. Ctrl-C stops everything.
# See docs/deploiement.md.
#
#   deploy/replicas.sh [-n RÉPLIQUES] [-p PORT_PUBLIC] [-b PREMIER_PORT] [--db ENTREPÔT]
#
# The ingest runs apart, as its own job, against the same file (python -m fsdash ingest --db ...):
# every replica sees the new version at its next page run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
replicas=2
public_port=8080
first_port=8501
db="${FSDASH_DB:-$root/data/fsdash.duckdb}"
python="${PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || python="$(command -v python3)"

usage() {
  echo "usage : deploy/replicas.sh [-n RÉPLIQUES] [-p PORT_PUBLIC] [-b PREMIER_PORT] [--db ENTREPÔT]"
  echo "  -n   nombre de répliques (défaut : 2 ; une par cœur est un bon début)"
  echo "  -p   port du mandataire nginx (défaut : 8080)"
  echo "  -b   port de la première réplique, les suivantes à la suite (défaut : 8501)"
  echo "  --db entrepôt servi (défaut : FSDASH_DB, sinon data/fsdash.duckdb)"
}

while [ $# -gt 0 ]; do
  case "$1" in
    -n) replicas="$2"; shift 2 ;;
    -p) public_port="$2"; shift 2 ;;
    -b) first_port="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done

nginx_bin="$(command -v nginx || true)"
[ -n "$nginx_bin" ] || [ ! -x /usr/sbin/nginx ] || nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
  echo "erreur : nginx est absent (Debian : apt-get install nginx-light)" >&2
  exit 2
fi
if [ ! -f "$db" ]; then
  echo "erreur : entrepôt introuvable : $db — chargez-le d'abord (python -m fsdash ingest --db $db …)," \
       "les répliques ne le construisent pas chacune de leur côté" >&2
  exit 2
fi
db="$(cd "$(dirname "$db")" && pwd)/$(basename "$db")"

# Settings of a server meant for many viewers (measured: docs/deploiement.md, fsdash/bench/load.py).
export FSDASH_DB="$db"
export STREAMLIT_RUNNER_POST_SCRIPT_GC=false
export STREAMLIT_SERVER_FILE_WATCHER_TYPE=none
export OMP_NUM_THREADS=1

run="$(mktemp -d -t fsdash-replicas-XXXXXX)"
pids=()
stop() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$run"
}
trap stop EXIT INT TERM

healthy() {
  "$python" - "$1" <<'EOF'
import sys, time, urllib.request
deadline = time.monotonic() + 180
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(sys.argv[1] + "/_stcore/health", timeout=2) as resp:
            if resp.status == 200:
                sys.exit(0)
    except OSError:
        time.sleep(0.5)
sys.exit(1)
EOF
}

servers=""
for i in $(seq 0 $((replicas - 1))); do
  port=$((first_port + i))
  (cd "$root" && exec "$python" -m fsdash serve --db "$db" --port "$port" --address 127.0.0.1) \
    >"$run/replique-$port.log" 2>&1 &
  pids+=("$!")
  servers+="    server 127.0.0.1:$port max_fails=3 fail_timeout=10s;\n"
  # The first replica migrates an out-of-date warehouse once; the others start when it answers.
  if ! healthy "http://127.0.0.1:$port"; then
    echo "erreur : la réplique du port $port ne répond pas ; son journal :" >&2
    tail -n 40 "$run/replique-$port.log" >&2
    exit 1
  fi
  echo "réplique prête : http://127.0.0.1:$port (journal : $run/replique-$port.log)"
done

# deploy/nginx.conf with these replicas and this port, in a main configuration run unprivileged.
sed -e '/^    server 127\.0\.0\.1:[0-9]* /d' \
    -e "s|^    hash \$fsdash_sticky_key consistent;|&\n$servers|" \
    -e "s|^    listen [0-9]*;|    listen $public_port;|" \
    "$here/nginx.conf" >"$run/fsdash.conf"
cat >"$run/nginx.conf" <<EOF
pid $run/nginx.pid;
error_log stderr warn;
worker_processes auto;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $run/body;
    proxy_temp_path $run/proxy;
    fastcgi_temp_path $run/fastcgi;
    uwsgi_temp_path $run/uwsgi;
    scgi_temp_path $run/scgi;
    include $run/fsdash.conf;
}
EOF
"$nginx_bin" -t -q -p "$run" -c "$run/nginx.conf"
"$nginx_bin" -p "$run" -c "$run/nginx.conf" -g 'daemon off;' &
pids+=("$!")
echo "fsdash : http://localhost:$public_port ($replicas répliques sur $db) — Ctrl-C pour tout arrêter"
wait -n "${pids[@]}" || true
echo "un processus s'est arrêté : arrêt de tout" >&2
