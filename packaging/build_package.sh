#!/usr/bin/env bash
# `make package`: the one-folder PyInstaller bundle (dist/landscape-studio/) with CPU-only torch, checked by its own
# --self-test offscreen, then a .deb (dist/landscape-studio_<version>_amd64.deb). Not part of `make test`.
#
# Environment:
#   TORCH_CPU_WHEEL   the CPU torch wheel (default: /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl)
#   PYTHON            the interpreter for the build venv (default: python3.11, else python3)
#   DEB_COMPRESS      dpkg-deb compression: gzip (default, fast), xz or zstd
#   SKIP_DEB=1        stop after the bundle and its self-test
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TORCH_CPU_WHEEL=${TORCH_CPU_WHEEL:-/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl}
TORCHVISION_PIN=torchvision==0.28.0  # the torchvision built against torch 2.13
PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=build/pkgvenv
DIST=dist/landscape-studio
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
began=$(date +%s)

if [[ ! -f "$TORCH_CPU_WHEEL" ]]; then
    echo "error: the CPU-only torch wheel is missing: $TORCH_CPU_WHEEL" >&2
    echo "       Provide torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl there (from" >&2
    echo "       https://download.pytorch.org/whl/cpu) or set TORCH_CPU_WHEEL=/path/to/it.whl." >&2
    echo "       (PyPI's torch is the CUDA build: a bundle of it would be over 5 GB.)" >&2
    exit 2
fi
VERSION=$("$PYTHON" -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')

echo "== build venv ($VENV) with $(basename "$TORCH_CPU_WHEEL")"
stamp="$VENV/.stamp"
want="$(sha256sum "$TORCH_CPU_WHEEL" pyproject.toml packaging/build_package.sh | sha256sum | cut -c1-16)"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet "$TORCH_CPU_WHEEL" "$TORCHVISION_PIN"
    # The project's other dependencies (torch/torchvision are already there), then the project itself without deps.
    mapfile -t deps < <("$VENV/bin/python" - <<'PY'
import re, tomllib
for dep in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if re.split(r"[<>=!~ \[;]", dep, maxsplit=1)[0] not in ("torch", "torchvision"):
        print(dep)
PY
)
    "$VENV/bin/pip" install --quiet "${deps[@]}" "pyinstaller>=6.10"
    "$VENV/bin/pip" install --quiet --no-deps .
    "$VENV/bin/python" -c 'import torch; assert not torch.version.cuda, torch.__version__' \
        || { echo "error: the build venv's torch is a CUDA build; the CPU wheel was replaced" >&2; exit 1; }
    echo "$want" > "$stamp"
fi

echo "== PyInstaller bundle ($DIST)"
rm -rf "$DIST"
t0=$(date +%s)
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/pyinstaller/landscape_studio.spec
echo "bundle built in $(( $(date +%s) - t0 )) s"

echo "== self-test of the bundle (offscreen)"
rm -rf build/selftest
line=$(QT_QPA_PLATFORM=offscreen "$DIST/landscape-studio" --self-test --out build/selftest 2>build/selftest.log) \
    || { cat build/selftest.log >&2; echo "error: the bundle's self-test failed" >&2; exit 1; }
echo "$line"
size=$(du -sh "$DIST" | cut -f1)
window=$(sed -n 's/.* \([0-9.]* s\) after launch.*/\1 after launch/p' <<<"$line")  # what a user waits
echo "bundle: $DIST, $size; window shown $window"

if [[ "${SKIP_DEB:-0}" == "1" ]]; then
    echo "done in $(( $(date +%s) - began )) s (SKIP_DEB=1: no .deb)"
    exit 0
fi

echo "== Debian package"
STAGE=build/deb/landscape-studio_${VERSION}_amd64
rm -rf build/deb
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
    "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/mime/packages"
cp -a "$DIST" "$STAGE/opt/landscape-studio"
ln -s /opt/landscape-studio/landscape-studio "$STAGE/usr/bin/landscape-studio"
install -m 644 packaging/linux/landscape-studio.desktop "$STAGE/usr/share/applications/"
install -m 644 resources/icons/landscape-studio.png "$STAGE/usr/share/icons/hicolor/256x256/apps/"
install -m 644 packaging/linux/landscape-studio-mime.xml "$STAGE/usr/share/mime/packages/landscape-studio.xml"
# Qt's system libraries, as packaging/ensure_system_deps.sh lists them (the first word of each entry).
depends=$(sed -n '/^LS_SYSTEM_DEPS=(/,/^)/p' packaging/ensure_system_deps.sh | sed -n 's/^    \([a-z0-9][a-z0-9.+-]*\).*/\1/p' \
    | paste -sd, | sed 's/,/, /g')
installed_kb=$(du -sk "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: landscape-studio
Version: $VERSION
Architecture: amd64
Maintainer: Landscape Studio <landscape-studio@localhost>
Installed-Size: $installed_kb
Depends: libc6 (>= 2.28), $depends
Section: graphics
Priority: optional
Homepage: https://example.invalid/landscape-studio
Description: photo editor that edits by inverting a generative network
 Landscape Studio finds the latent code of a photo in a generator, then edits,
 inpaints and explores the loss landscape around it. CPU-only build (PyInstaller).
CONTROL
# The maintainer scripts prefix $DPKG_ROOT (empty on a normal install): dpkg sets it for an install into another
# root (dpkg --root … --force-script-chrootless), which is how the step below tests the package.
for script in postinst postrm; do
    cat > "$STAGE/DEBIAN/$script" <<'SCRIPT'
#!/bin/sh
set -e
root="${DPKG_ROOT:-}"
if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$root/usr/share/mime" || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q "$root/usr/share/applications" || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t "$root/usr/share/icons/hicolor" || true; fi
SCRIPT
    chmod 755 "$STAGE/DEBIAN/$script"
done
DEB=dist/landscape-studio_${VERSION}_amd64.deb
t0=$(date +%s)
dpkg-deb --root-owner-group -Z"${DEB_COMPRESS:-gzip}" --build "$STAGE" "$DEB" >/dev/null
echo "deb: $DEB, $(du -h "$DEB" | cut -f1) (built in $(( $(date +%s) - t0 )) s)"
echo "== dpkg installs the .deb into a throw-away root (build/deb-install), its launcher self-tests, dpkg removes it"
INSTALLED="$PWD/build/deb-install"  # absolute: dpkg runs the maintainer scripts by this path
rm -rf "$INSTALLED" build/deb-root
mkdir -p "$INSTALLED/var/lib/dpkg/info" "$INSTALLED/var/lib/dpkg/updates"
: > "$INSTALLED/var/lib/dpkg/status"
# That root's package database is empty, so dpkg cannot see the Depends there; they are checked on this machine
# (whose libraries the launcher then uses) and dpkg is told to go on.
as_user=()  # an unprivileged build (CI runners) installs into its own root as itself
[[ $EUID -ne 0 ]] && as_user=(--force-not-root)
for pkg in ${depends//,/ }; do
    dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii' \
        || { echo "error: the .deb depends on $pkg, which is not installed here" >&2; exit 1; }
done
dpkg --root="$INSTALLED" "${as_user[@]}" --force-script-chrootless --force-depends -i "$DEB" >build/deb-install.log 2>&1 \
    || { cat build/deb-install.log >&2; echo "error: dpkg -i failed" >&2; exit 1; }
dpkg-query --admindir="$INSTALLED/var/lib/dpkg" -W -f='${db:Status-Abbrev}' landscape-studio | grep -q '^ii' \
    || { echo "error: dpkg does not list landscape-studio as installed" >&2; exit 1; }
for path in usr/share/applications/landscape-studio.desktop usr/share/icons/hicolor/256x256/apps/landscape-studio.png \
        usr/share/mime/packages/landscape-studio.xml; do
    [[ -f "$INSTALLED/$path" ]] || { echo "error: the installed package lacks /$path" >&2; exit 1; }
done
if command -v update-mime-database >/dev/null 2>&1; then  # postinst ran: the MIME cache knows *.lsproj
    grep -q 'application/x-landscape-studio-project' "$INSTALLED/usr/share/mime/globs2" \
        || { echo "error: postinst did not register the project MIME type" >&2; exit 1; }
fi
launcher=$(readlink "$INSTALLED/usr/bin/landscape-studio")  # absolute (/opt/…), as Debian policy asks
QT_QPA_PLATFORM=offscreen "$INSTALLED$launcher" --self-test --out build/deb-selftest
dpkg --root="$INSTALLED" "${as_user[@]}" --force-script-chrootless -r landscape-studio >>build/deb-install.log 2>&1 \
    || { cat build/deb-install.log >&2; echo "error: dpkg -r failed" >&2; exit 1; }
[[ ! -e "$INSTALLED/opt/landscape-studio" && ! -e "$INSTALLED/usr/bin/landscape-studio" ]] \
    || { echo "error: dpkg -r left the program behind" >&2; exit 1; }
echo "installed with dpkg, self-tested and removed again"
echo "done in $(( $(date +%s) - began )) s: bundle $size, window shown $window"
