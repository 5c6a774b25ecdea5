#!/bin/sh
# Debian packages the tests run, from scripts/test-tools.txt: each listed tool that is missing
# brings its package in (libvirt's virsh, qemu-img, the NFS tools, Chromium, PostgreSQL). Tools
# marked base: are on every Debian image and only checked. Needs root (apt-get) to install.
set -eu
cd "$(dirname "$0")/.."
found() {
  case "$1" in
    chromium) [ -x /usr/bin/chromium ] ;;
    initdb) command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ;;
    *) command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] ;;
  esac
}
need="" missing_base=""
while read -r tool pkg _; do
  case "$tool" in ''|'#'*) continue ;; esac
  case "$pkg" in
    absent) continue ;;
    base:*) found "$tool" || missing_base="$missing_base ${pkg#base:}" ;;
    *) found "$tool" || case " $need " in *" $pkg "*) ;; *) need="$need $pkg" ;; esac ;;
  esac
done < scripts/test-tools.txt
need="$need$missing_base"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "missing Debian packages:$need — install them as root: apt-get install -y$need" >&2
  exit 1
fi
echo "› installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends $need >/dev/null
for tool in $(awk '!/^#/ && NF >= 2 && $2 != "absent" { print $1 }' scripts/test-tools.txt); do
  found "$tool" || { echo "$tool is still missing after installing its package (scripts/test-tools.txt)" >&2; exit 1; }
done
