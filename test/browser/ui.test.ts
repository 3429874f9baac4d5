// The web page (GET /ui) in headless Chromium, driven by playwright-core: a real session through the API with a
// scripted turn (sandbox tools, a confirmed backend tool), the session list, the waterfall's spans, the file the agent
// wrote, then a second turn arriving live over the SSE stream. Screenshots go to test/artifacts/.
// Chromium is the system's (Debian's `chromium`, from scripts/setup/chromium.sh; Playwright downloads no browser);
// without it the test is skipped, saying so.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { createScriptedSession, post, runScriptedTurn, waitForIdle, writtenFile } from '../fixtures/trace/scenario.ts';

const chromiumPath = ['chromium', 'chromium-browser', 'google-chrome']
  .map((name) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim())
  .find((path) => path !== '');
const artifacts = new URL('./artifacts/', import.meta.url).pathname;

let harness: ApiHarness;
let browser: Browser | undefined;
let page: Page;
beforeAll(async () => {
  if (!chromiumPath) return;
  harness = await startApiHarness('ui', { workers: ['session', 'model', 'sandbox', 'backend'] });
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.setDefaultTimeout(30_000);
});
afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

const screenshot = async (name: string) => {
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, name), fullPage: true });
};
/** Waits until `expression` is truthy in the page. */
const waitFor = async (expression: string) => {
  await page.waitForFunction(expression);
};
/** Waits until an element matching `selector` is in the document. */
const attached = (selector: string) => page.locator(selector).first().waitFor({ state: 'attached' });
const count = (selector: string) => page.locator(selector).count();
const text = (selector: string) => page.locator(selector).first().textContent();

it.skipIf(!chromiumPath)(
  'shows the session list, the waterfall, the written file and a live second turn (needs chromium: scripts/setup/chromium.sh)',
  async () => {
    const { sessionId } = await createScriptedSession(harness, 'ui');
    await runScriptedTurn(harness, sessionId);

    // Without a key the page asks for one; with it, the list shows the session.
    await page.goto(`${harness.baseURL}/ui`);
    await page.locator('#notice', { hasText: /API key/ }).waitFor({ state: 'attached' });
    await page.locator('#api-key').fill(harness.tenant.apiKey);
    await page.evaluate(`document.getElementById('key-form').requestSubmit()`);
    const row = `tr[data-session-id="${sessionId}"]`;
    await attached(row);
    expect(await text(row)).toContain('idle');
    await screenshot('ui-session-list.png');

    // The session page: the waterfall has the turn's spans.
    await page.evaluate(`location.hash = '#/sessions/${sessionId}'`);
    await attached('[data-span-kind="tool"][data-span-name="refund_order"]');
    expect(await count('#waterfall [data-span-kind="model_request"]')).toBe(3);
    for (const name of ['bash', 'write', 'refund_order']) {
      expect(await page.locator(`[data-span-name="${name}"]`).first().getAttribute('data-span-status')).toBe('ok');
    }
    expect(await count('#waterfall [data-span-kind="wait"]')).toBe(1);
    expect(await text('[data-span-name="refund_order"] .label')).toContain('approved by user');
    expect(await page.evaluate<string>(`document.getElementById('temporal-link').href`)).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/session-${sessionId}`,
    );
    // Drill-down: clicking a span opens its input and output.
    await page.locator('[data-span-name="bash"]').first().click();
    expect(await text('.span-detail')).toContain('hello from the sandbox');
    expect(await text(`[data-file-path="${writtenFile.path}"] .file-content`)).toBe(writtenFile.content);
    expect(await count('#tool-groups .tool-group')).toBe(2);
    expect(await text('#transcript')).toContain('Report written and A-1001 refunded.');
    expect(await count('#raw-events li')).toBeGreaterThan(10);
    await screenshot('ui-session-waterfall.png');

    // A second turn arrives over the live stream, without a reload.
    await waitFor(`document.getElementById('live-state').textContent === 'live'`);
    await post(harness, `/v1/sessions/${sessionId}/events`, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'And once more.' }] }],
    });
    await waitForIdle(harness, sessionId, 'end_turn', 2);
    await attached('#waterfall [data-turn="2"]');
    await waitFor(`document.getElementById('transcript').textContent.includes('Second turn done.')`);
    await waitFor(`document.querySelectorAll('#waterfall [data-span-kind="model_request"]').length === 4`);
    await page.locator('[data-tab="files"]').first().click();
    await screenshot('ui-session-files.png');
  },
);
