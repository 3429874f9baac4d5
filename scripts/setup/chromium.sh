# Headless Chromium for the web page's browser test (test/browser/ui.test.ts). Uses `chromium` from PATH when present;
# otherwise, as root on Debian, installs the `chromium` package. Never fatal: without a browser that test skips.
ensure_chromium() {
  if [[ -n "${AGENTS_SKIP_CHROMIUM:-}" ]]; then return 0; fi
  local found
  found="$(command -v chromium || command -v chromium-browser || true)"
  if [[ -n "$found" ]]; then
    log "chromium: $found"
    return 0
  fi
  if is_root && command -v apt-get >/dev/null 2>&1; then
    log "installing chromium from Debian packages (for the UI browser test)"
    apt_install chromium || log "chromium did not install; the UI browser test will be skipped"
  else
    log "no chromium and not root: the UI browser test will be skipped"
  fi
}
