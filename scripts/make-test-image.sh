#!/bin/bash
# Builds a tiny image from Debian's busybox-static (sh, sleep, httpd, nc, wget) and loads it into the
# dockerd at DOCKER_HOST. usage: make-test-image.sh [tag]
set -euo pipefail
TAG=${1:-busybox:local}
BB=/bin/busybox
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
mkdir -p "$d/bin" "$d/etc" "$d/www" "$d/tmp"
cp "$BB" "$d/bin/busybox"
for a in $("$BB" --list); do [ "$a" = busybox ] || ln -sf busybox "$d/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"; echo 'root:x:0:' > "$d/etc/group"
echo ok > "$d/www/index.html"
tar -C "$d" -c . | /usr/bin/docker import -c 'ENV PATH=/bin' -c 'CMD ["sh"]' - "$TAG" >/dev/null
echo "$TAG"
