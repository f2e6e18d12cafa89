#!/usr/bin/env bash
# report_screenshot.sh [--expect-console-error] PAGE.html OUT.png
#
# Opens PAGE.html (a file, never a URL) in headless Chromium with networking off,
# writes a screenshot to OUT.png and checks the browser console: any console message
# (an uncaught exception, console.error, a blocked load) fails the check, since the
# simulator's HTML report runs no script and loads nothing.
#
# --expect-console-error inverts the console check, so a test can prove the detector
# sees a real error: it passes only when the page did log to the console.
#
# Exit status: 0 passed; 1 the console check failed; 2 could not check (no chromium,
# no screenshot, or the page references a network resource).
# Environment: CHROMIUM (browser binary, default chromium), REPORT_WINDOW (default
# 1400,3400: the screenshot's width,height in CSS pixels).
set -uo pipefail

expect_error=0
if [ "${1:-}" = "--expect-console-error" ]; then
  expect_error=1
  shift
fi
if [ $# -ne 2 ]; then
  echo "usage: $0 [--expect-console-error] PAGE.html OUT.png" >&2
  exit 2
fi
page=$1
png=$2
log() { printf 'report_screenshot: %s\n' "$*" >&2; }

browser=${CHROMIUM:-chromium}
if ! command -v "$browser" >/dev/null 2>&1; then
  log "$browser not found: install Debian's chromium (scripts/setup.sh does)"
  exit 2
fi
if [ ! -f "$page" ]; then
  log "no such page: $page"
  exit 2
fi
# No network resource at all: no src/href/url() that leaves the file.
if grep -Eiq '(src|href|action|data)[[:space:]]*=[[:space:]]*["'\'']?[[:space:]]*(https?:|ftp:)?//|url\([[:space:]]*["'\'']?(https?:)?//|@import' "$page"; then
  log "$page references a network resource:"
  grep -Eion '(src|href|action|data)[[:space:]]*=[[:space:]]*["'\'']?[[:space:]]*(https?:|ftp:)?//[^"'\'' >]*|url\([^)]*\)|@import[^;]*' "$page" | head -5 >&2
  exit 2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url="file://$(cd "$(dirname "$page")" && pwd)/$(basename "$page")"
png_abs="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
rm -f "$png_abs"

# Networking off: every host name fails to resolve and every request that would
# still go out is sent to a closed loopback proxy port.
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$work/profile" --no-first-run --no-default-browser-check \
  --disable-background-networking --disable-component-update --disable-sync \
  --disable-default-apps --disable-extensions --disable-features=Translate,MediaRouter \
  --host-resolver-rules='MAP * ~NOTFOUND' --proxy-server='127.0.0.1:9' \
  --enable-logging=stderr --v=0 \
  --window-size="${REPORT_WINDOW:-1400,3400}" --screenshot="$png_abs" "$url" \
  >"$work/stdout" 2>"$work/stderr"
rc=$?
if [ $rc -ne 0 ]; then
  log "chromium exited with $rc; its last lines:"
  tail -5 "$work/stderr" >&2
  exit 2
fi
if [ ! -s "$png_abs" ] || [ "$(head -c 4 "$png_abs" | od -An -c | tr -d ' ')" != '211PNG' ]; then
  log "no PNG screenshot at $png"
  exit 2
fi

# Chromium logs each console message as "...:INFO:CONSOLE(LINE)] "text", source: URL (LINE)"
# (or CONSOLE:LINE in newer versions), whatever its level.
grep -E ':CONSOLE[(:]|Uncaught' "$work/stderr" >"$work/console" || true
count=$(wc -l <"$work/console")
if [ "$expect_error" = 1 ]; then
  if [ "$count" -eq 0 ]; then
    log "FAIL: expected a console error from $page, saw none"
    exit 1
  fi
  log "ok: the console error was detected ($count line(s)):"
  sed 's/^/  /' "$work/console" >&2
  exit 0
fi
if [ "$count" -ne 0 ]; then
  log "FAIL: $page logged $count console message(s):"
  sed 's/^/  /' "$work/console" >&2
  exit 1
fi
log "ok: $page rendered to $png ($(wc -c <"$png_abs") bytes), no console messages"
exit 0
