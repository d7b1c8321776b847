#!/usr/bin/env bash
# Make sure the Debian packages that the PySide6 wheel in .venv needs are present.
#
# Runs on every `make run` / `make test`, so it must be quick and idempotent:
# when nothing is missing it prints nothing and exits 0.
#
# Found by running `ldd` / `objdump -p` over the wheel's libQt6{Core,Gui,Widgets,
# OpenGL,OpenGLWidgets,DBus,XcbQpa}.so.6, the PySide6 Qt{Core,Gui,Widgets,OpenGL}
# modules, plugins/platforms/libq{offscreen,xcb}.so and plugins/xcbglintegrations,
# keeping what is not bundled under PySide6/Qt/lib and mapping it with `dpkg -S`.
# Only top-level packages are listed; a library that arrives as a Debian 12
# dependency of one listed here is named in the comment instead. Libraries from
# the base system (libc6, libstdc++6, libgcc-s1, zlib1g, libzstd1, libpcre2-8-0)
# are left out. xvfb/xauth are only for headless screenshots and are left out.
#
# Environment:
#   LS_SYSTEM_DEPS_EXTRA   extra package names (space-separated) to require too
#   LS_SKIP_SYSTEM_DEPS=1  do nothing
set -euo pipefail

LS_SYSTEM_DEPS=(
    # --- QtCore / QtGui / QtWidgets / QtOpenGL, and the offscreen platform ---
    libglib2.0-0        # libQt6Core: libglib-2.0.so.0, libgthread-2.0.so.0 (event loop)
    libgl1              # libGL.so.1 (every Qt module and plugin); brings libglvnd0,
                        #   libglx0 -> libglx-mesa0 -> libx11-6 (libX11.so.6, needed by
                        #   libQt6Gui and libqoffscreen), libxcb1, libx11-xcb1,
                        #   libxcb-glx0, libxcb-randr0, libxcb-sync1, libxcb-xfixes0
    libegl1             # libQt6Gui, libqxcb-egl-integration: libEGL.so.1
    libxkbcommon0       # libQt6Gui/Widgets/OpenGL, libqoffscreen: libxkbcommon.so.0
                        #   (brings xkb-data; libxkbcommon-x11-0 below also brings it,
                        #   kept so this group works without the xcb one)
    libfontconfig1      # libQt6Gui: libfontconfig.so.1; brings libfreetype6
                        #   (libfreetype.so.6) and fontconfig-config -> a font
    libdbus-1-3         # libQt6DBus (loaded by libQt6Gui): libdbus-1.so.3
    # --- xcb platform plugin (a real window on X11): libqxcb.so, libQt6XcbQpa ---
    libxcb-cursor0      # libxcb-cursor.so.0; brings libxcb-image0, libxcb-render0,
                        #   libxcb-render-util0, libxcb-shm0, libxcb-util1
    libxkbcommon-x11-0  # libxkbcommon-x11.so.0; brings libxcb-xkb1
    libxcb-icccm4       # libxcb-icccm.so.4
    libxcb-keysyms1     # libxcb-keysyms.so.1
    libxcb-shape0       # libxcb-shape.so.0
)

if [[ "${LS_SKIP_SYSTEM_DEPS:-0}" == "1" ]]; then
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "ensure_system_deps: no dpkg-query (not Debian/Ubuntu); not checking Qt's system libraries." >&2
    exit 0
fi

read -r -a extra <<<"${LS_SYSTEM_DEPS_EXTRA:-}"
wanted=("${LS_SYSTEM_DEPS[@]}" "${extra[@]}")

# One dpkg-query call for all of them. Packages dpkg has never heard of print
# nothing on stdout, so compare by name rather than by line.
declare -A installed=()
while IFS=$'\t' read -r name status; do
    if [[ "$status" == "install ok installed" ]]; then
        installed["$name"]=1
    fi
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for pkg in "${wanted[@]}"; do
    if [[ -z "${installed[$pkg]:-}" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

echo "ensure_system_deps: missing Debian packages for Qt: ${missing[*]}" >&2

if [[ $(id -u) -eq 0 ]]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "ensure_system_deps: run this as root, then try again:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

"${sudo[@]}" apt-get update -qq >&2
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends "${missing[@]}" >&2
echo "ensure_system_deps: installed ${missing[*]}" >&2
