#!/usr/bin/env bash
# Installs the system packages the tests and the demo use, on Debian/Ubuntu, when they are missing.
# Says what it installs. Without root it only lists what is missing (those tests then skip, saying why).
set -euo pipefail
need=()
command -v nmap >/dev/null 2>&1 || need+=(nmap)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
command -v openssl >/dev/null 2>&1 || need+=(openssl)  # collector TLS test: a throwaway certificate
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx)  # `nginx -t` of deploy/collector/
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)  # tests/remediate: the Linux fix scripts (2.6 MB)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium chromium-driver)  # tests/console: the browser tests
[ -x /usr/lib/postgresql/*/bin/initdb ] 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
# WeasyPrint renders through Pango; the slim images lack it.
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# WeasyPrint subsets the embedded fonts with HarfBuzz when present (3.7 s -> 1.4 s for a province PDF).
ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset || need+=(libharfbuzz-subset0)
if [ ${#need[@]} -eq 0 ]; then
  echo "system-deps: nmap, iproute2, poppler-utils, openssl, nginx, shellcheck, chromium, postgresql, pango, harfbuzz-subset present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "system-deps: missing ${need[*]} (not root or no apt-get: the tests that need them will skip)"
  exit 0
fi
echo "system-deps: installing ${need[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "system-deps: installed ${need[*]}"
