/**
 * How the UI tests (this package's and the server binary's) launch Debian's Chromium through
 * `playwright-core`: a CI-only test helper, not part of any published door.
 */

/** Options for `chromium.launch(…)`: headless, no sandbox (containers), no background traffic. */
export function chromiumLaunchOptions(): { executablePath: string; args: string[] } {
  return {
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  };
}
