#!/usr/bin/env bash
# `npm run package`: the Debian packages (amd64, arm64) and the RPMs
# (x86_64, aarch64) in dist/pkg/, each checked (lintian for the .deb,
# rpm -qpl for the .rpm). Needs only `npm ci` and Debian packages
# (dpkg-dev, lintian, rpm, man-db): test/install-deps.sh installs them.
#
#   VERSION=0.1.1   build another version (the changelog gets an entry for it)
#   ARCHES="amd64"  only these Debian architectures (default: amd64 arm64)
#   FORMATS="deb"   only these formats (default: deb rpm)
#   OUT=dir         output directory (default dist/pkg)
#   DEB_COMPRESSION="-Zgzip -z1"  dpkg-deb compression (default xz level 2)
#   RPM_PAYLOAD=w1.gzdio  rpm payload compression (default xz level 2)
#   LINTIAN=0       skip lintian (tests that build throwaway versions)
#   HA_AGENT_BINARY=dist/resource.d/ha-agent  use this build (one arch only) instead of compiling
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD
out=${OUT:-dist/pkg}
read -r -a arches <<<"${ARCHES:-amd64 arm64}"
read -r -a formats <<<"${FORMATS:-deb rpm}"
read -r -a compression <<<"${DEB_COMPRESSION:--Zxz -z2}"
pkg=ha-resource-agents
agents=(IPaddr drbddisk Filesystem mysqld)

work=$(mktemp -d "${TMPDIR:-/tmp}/package-$$-XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The changelog names the version and its date (man page footers, file times).
changelog=packaging/debian/changelog
version=${VERSION:-$(node -p "require('./package.json').version")}
if [ "$(dpkg-parsechangelog -l "$changelog" -S Version)" != "$version" ]; then
  {
    printf '%s (%s) unstable; urgency=medium\n\n  * Local build of %s.\n\n' "$pkg" "$version" "$version"
    printf ' -- %s  %s\n\n' "$(dpkg-parsechangelog -l "$changelog" -S Maintainer)" "$(date -u -R)"
    cat "$changelog"
  } >"$work/changelog"
  changelog=$work/changelog
fi
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(dpkg-parsechangelog -l "$changelog" -S Timestamp)}
date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)

# Man pages: generated from the parameter tables and the CLI, never kept by hand.
./node_modules/.bin/bun packaging/manpages.ts "$work/man" "$version" "$date"

# Platform minimums, stated in the package description (README "Platforms").
declare -A bun_target=([amd64]=bun-linux-x64 [arm64]=bun-linux-arm64)
declare -A rpm_arch=([amd64]=x86_64 [arm64]=aarch64)
declare -A cpu_min=([amd64]="x86-64-v2 CPU (SSE4.2, POPCNT: Intel Nehalem, AMD Bulldozer or later)" [arm64]="ARMv8-A CPU")

stage() { # arch → $work/$arch/root, the installed tree
  local arch=$1 root=$work/$1/root
  local binary=${HA_AGENT_BINARY:-}
  if [ -z "$binary" ]; then
    OUT="$work/$arch/bin" TARGET=${bun_target[$arch]} bash packaging/build.sh >/dev/null
    binary=$work/$arch/bin/ha-agent
  fi
  install -D -m 0755 "$binary" "$root/usr/lib/$pkg/ha-agent"
  install -d "$root/usr/sbin" "$root/usr/lib/ocf/resource.d/hara" "$root/etc/ha.d/resource.d" \
    "$root/usr/share/man/man7" "$root/usr/share/man/man8" "$root/usr/share/doc/$pkg" "$root/usr/share/lintian/overrides"
  ln -s "../lib/$pkg/ha-agent" "$root/usr/sbin/ha-agent"
  for agent in "${agents[@]}"; do
    ln -s "../../../$pkg/ha-agent" "$root/usr/lib/ocf/resource.d/hara/$agent"
    # Absolute: /etc and /usr are different top-level directories (policy 10.5).
    ln -s "/usr/lib/$pkg/ha-agent" "$root/etc/ha.d/resource.d/$agent"
  done
  for page in "$work"/man/man*/*; do
    gzip -9n -c "$page" >"$root/usr/share/man/$(basename "$(dirname "$page")")/$(basename "$page").gz"
  done
  install -m 0644 packaging/debian/copyright "$root/usr/share/doc/$pkg/copyright"
  gzip -9n -c "$changelog" >"$root/usr/share/doc/$pkg/changelog.gz"
  install -m 0644 packaging/debian/lintian-overrides "$root/usr/share/lintian/overrides/$pkg"
  # ha-agent watch as a service: shipped, not enabled (no maintainer script enables it).
  install -D -m 0644 packaging/systemd/ha-agent-watch.service "$root/lib/systemd/system/ha-agent-watch.service"
  chmod -R go-w "$root"
  find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
}

installed_size() { # KiB as dpkg-gencontrol counts: each file rounded up, 1 per link or directory
  find "$1" -path "$1/DEBIAN" -prune -o \( -type f -printf '%s\n' -o -printf '1024\n' \) |
    awk '{ kib += int(($1 + 1023) / 1024) } END { print kib }'
}

build_deb() {
  local arch=$1 root=$work/$1/root deb
  deb="$out/${pkg}_${version}_${arch}.deb"
  rm -rf "$root/DEBIAN"
  install -d "$root/DEBIAN"
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$(installed_size "$root")/" \
    -e "s/@KERNEL_MIN@/3.10/" -e "s/@CPU_MIN@/${cpu_min[$arch]}/" packaging/debian/control.in >"$root/DEBIAN/control"
  install -m 0755 packaging/debian/preinst packaging/debian/postrm "$root/DEBIAN/"
  (cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
  chmod 0644 "$root/DEBIAN/md5sums"
  dpkg-deb --root-owner-group "${compression[@]}" --build "$root" "$deb" >/dev/null
  if [ "${LINTIAN:-1}" = 1 ]; then
    # Errors and warnings fail the build; each one left is overridden with its reason in packaging/debian/lintian-overrides.
    local report rc=0
    report=$(lintian --fail-on error,warning --tag-display-limit 0 "$deb" 2>&1) || rc=$?
    grep -v 'running with root privileges' <<<"$report" || true
    [ "$rc" = 0 ] || { echo "package: lintian rejects $deb" >&2; exit 1; }
  fi
  echo "package: $deb ($(du -h "$deb" | cut -f1))"
}

build_rpm() {
  local arch=$1 root=$work/$1/rpmtree top=$work/$1/rpmbuild rpm_version=${version//-/_}
  mkdir -p "$top"/{BUILD,RPMS,SPECS,SOURCES,SRPMS}
  rm -rf "$root"
  cp -a "$work/$arch/root" "$root"
  # The heartbeat names are the scriptlets' business (rpm has no diversions), Debian's files are not for rpm.
  rm -rf "$root/DEBIAN" "$root/usr/share/lintian" "$root/etc/ha.d"
  # rpm distributions keep units in /usr/lib/systemd/system (%{_unitdir}).
  install -D -m 0644 "$root/lib/systemd/system/ha-agent-watch.service" "$root/usr/lib/systemd/system/ha-agent-watch.service"
  rm -rf "$root/lib"
  # Its own (empty) rpm database: building and querying never create one in the builder's home.
  rpmbuild --quiet -bb --target "${rpm_arch[$arch]}-linux" --dbpath "$work/rpmdb" --define "_dbpath $work/rpmdb" \
    --define "_topdir $top" --define "_buildrootdir $work/$arch/rpmroot" --define "staged $root" \
    --define "pkgversion $rpm_version" --define "cpu_min ${cpu_min[$arch]}" \
    --define "_binary_payload ${RPM_PAYLOAD:-w2.xzdio}" --define "source_date_epoch_from_changelog 0" \
    --define "__strip /bin/true" --define "__brp_strip /bin/true" --define "debug_package %{nil}" \
    --define "_build_id_links none" \
    packaging/rpm/ha-resource-agents.spec >/dev/null
  local rpm
  rpm=$(find "$top/RPMS" -name '*.rpm' | head -1)
  cp "$rpm" "$out/"
  rpm --dbpath "$work/rpmdb" -qpl "$out/$(basename "$rpm")" >/dev/null
  echo "package: $out/$(basename "$rpm") ($(du -h "$out/$(basename "$rpm")" | cut -f1))"
}

for arch in "${arches[@]}"; do
  stage "$arch"
  for format in "${formats[@]}"; do
    "build_$format" "$arch"
  done
done
cd "$root_dir"
