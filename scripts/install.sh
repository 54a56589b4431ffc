#!/usr/bin/env bash
# Make this checkout runnable: uv, the .venv, and the system libraries WeasyPrint needs.
#
#   bash scripts/install.sh            # everything `make run` needs
#   bash scripts/install.sh --browser  # ... plus Chromium for the Playwright tests
#
# Idempotent and quick when nothing is missing (it only checks, then `uv sync` is a no-op).
# System packages are installed only as root on Debian; anywhere else it prints what to
# install. gettext is deliberately not needed: compiled .mo files are committed, and this
# script only warns if one is missing (tests/test_translations.py proves each .mo matches
# its .po; file times cannot, since a fresh clone gives every file the same age).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

want_browser=0
for arg in "$@"; do
    case "$arg" in
        --browser) want_browser=1 ;;
        -h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { echo "portal: $*" >&2; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# Only install system packages where that is clearly ours to do.
can_apt() { is_root && [ -f /etc/debian_version ] && command -v apt-get >/dev/null; }

# apt-get install, quietly; the package lists are refreshed only if the first try fails
# (a fresh container has none). Output is shown only when it fails for good.
apt_install() {
    local log
    log=$(mktemp)
    say "installing $* with apt-get ..."
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq "$@" >"$log" 2>&1; then
        if ! { apt-get update -qq && apt-get install -y -qq "$@"; } >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            return 1
        fi
    fi
    rm -f "$log"
}

# --- uv and the virtualenv ------------------------------------------------------

# pip puts uv in ~/.local/bin (--user), which need not be on PATH: fall back to `python3 -m uv`.
find_uv() {
    if command -v uv >/dev/null; then
        UV=(uv)
    elif [ -x "$HOME/.local/bin/uv" ]; then
        UV=("$HOME/.local/bin/uv")
    elif python3 -m uv --version >/dev/null 2>&1; then
        UV=(python3 -m uv)
    else
        return 1
    fi
}

install_uv() {
    if ! python3 -m pip --version >/dev/null 2>&1; then
        if can_apt; then
            apt_install python3-pip
        else
            say "python3 has no pip; install it (Debian: python3-pip) or install uv yourself"
            exit 1
        fi
    fi
    say "installing uv with pip ..."
    local user_flag=(--user)
    is_root && user_flag=()
    # Debian's python3 is "externally managed" (PEP 668); uv is a single self-contained
    # binary that cannot clash with Debian's packages, so allow it there.
    PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --disable-pip-version-check \
        "${user_flag[@]}" uv
}

sync_venv() {
    find_uv || { install_uv && find_uv; } || { say "uv is still not runnable after pip install"; exit 1; }
    [ -x .venv/bin/python ] || say "creating .venv with uv (first run; takes a minute) ..."
    # Never download a Python: the venv uses the machine's python3.
    UV_PYTHON_DOWNLOADS=never UV_PYTHON=python3 "${UV[@]}" sync --frozen --quiet
}

# --- system libraries --------------------------------------------------------------

# One ldconfig call, searched several times. (Not `ldconfig -p | grep -q` under pipefail:
# grep exiting early makes ldconfig die of SIGPIPE and the pipeline "fail".)
LIBS=""
have_lib() {
    if [ -z "$LIBS" ]; then
        LIBS=$({ command -v ldconfig >/dev/null && ldconfig -p; } || /sbin/ldconfig -p)
    fi
    grep -q -- "$1" <<<"$LIBS"
}

ensure_weasyprint_libs() {
    local missing=0
    have_lib libpango-1.0 || missing=1
    have_lib libpangoft2-1.0 || missing=1
    have_lib libharfbuzz-subset || missing=1
    [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing=1
    [ "$missing" -eq 0 ] && return 0

    local packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
    if can_apt; then
        apt_install "${packages[@]}"
    else
        say "WeasyPrint (PDF permits) needs Pango and HarfBuzz: install ${packages[*]} (Debian/Ubuntu names), or pango with harfbuzz elsewhere"
    fi
}

ensure_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    if can_apt; then
        apt_install chromium
    else
        say "browser tests need /usr/bin/chromium: install the Debian package 'chromium' (as root)"
    fi
}

# gettext (msgfmt) is not installed on purpose; a missing .mo file is only reported.
check_translations() {
    local po mo
    while IFS= read -r -d '' po; do
        mo="${po%.po}.mo"
        if [ ! -f "$mo" ]; then
            say "$mo is missing; run 'manage.py compilemessages' where gettext is installed and commit it"
        fi
    done < <(find . \( -path ./.venv -o -path ./.git -o -path ./var -o -path ./node_modules \) -prune \
        -o -path '*/locale/*' -name '*.po' -print0 2>/dev/null)
}

sync_venv
ensure_weasyprint_libs
[ "$want_browser" -eq 1 ] && ensure_chromium
check_translations
exit 0
