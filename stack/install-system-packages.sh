#!/usr/bin/env bash
# System packages the local stack needs: PostgreSQL 15+ (server binaries), a JDK
# plus Maven for Kafka, and Chromium (with a font set) for the dashboard's browser
# tests. Idempotent: when everything is present it only checks and
# exits; `apt-get update` runs only when something must be installed.
set -euo pipefail

have_postgres() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    return 0
  fi
  compgen -G '/usr/lib/postgresql/*/bin/pg_ctl' >/dev/null
}

missing=()
have_postgres || missing+=(postgresql)
command -v java >/dev/null 2>&1 || missing+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# runuser (util-linux) runs Postgres as the postgres user when the shell is root
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
# the dashboard tests drive Debian's Chromium headless (Playwright's own browser download is not used)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -d /usr/share/fonts/truetype/liberation ] || missing+=(fonts-liberation)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "system packages: postgresql, java, maven and chromium already present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "system packages: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi

echo "system packages: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "system packages: done"
