// The web page (GET /ui) in headless Chromium, driven over the DevTools protocol: a real session through the API with
// a scripted turn (sandbox tools, a confirmed backend tool), the session list, the waterfall's spans, the file the
// agent wrote, then a second turn arriving live over the SSE stream. Screenshots go to test/artifacts/.
// Chromium comes from scripts/setup/chromium.sh; without it the test is skipped, saying so.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startApiHarness, type ApiHarness } from '../support/api-harness.ts';
import { createScriptedSession, post, runScriptedTurn, waitForIdle, writtenFile } from '../fixtures/trace/scenario.ts';

const chromiumPath = ['chromium', 'chromium-browser', 'google-chrome']
  .map((name) => spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim())
  .find((path) => path !== '');
const artifacts = new URL('./artifacts/', import.meta.url).pathname;

/** Just enough of the DevTools protocol: one page, evaluate, wait, screenshot. */
class Browser {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private readonly socket: WebSocket;
  private readonly process: ChildProcess;
  private readonly profile: string;
  private sessionId = '';

  private constructor(socket: WebSocket, process: ChildProcess, profile: string) {
    this.socket = socket;
    this.process = process;
    this.profile = profile;
    socket.addEventListener('message', (message: { data: string }) => {
      const reply = JSON.parse(message.data) as { id?: number; result?: unknown; error?: { message: string } };
      const waiter = reply.id === undefined ? undefined : this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id!);
      if (reply.error) waiter.reject(new Error(reply.error.message));
      else waiter.resolve(reply.result);
    });
  }

  static async launch(executable: string): Promise<Browser> {
    const profile = mkdtempSync(join(tmpdir(), 'agents-ui-chromium-'));
    const child = spawn(
      executable,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--remote-debugging-port=0',
        `--user-data-dir=${profile}`,
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let output = '';
    const endpoint = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`chromium did not start: ${output}`)), 30_000);
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => reject(new Error(`chromium exited (${code}): ${output}`)));
    });
    const socket = new WebSocket(endpoint);
    await new Promise((resolve, reject) => {
      socket.addEventListener('open', resolve, { once: true });
      socket.addEventListener('error', reject, { once: true });
    });
    const browser = new Browser(socket, child, profile);
    const { targetId } = (await browser.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const attached = (await browser.send('Target.attachToTarget', { targetId, flatten: true })) as {
      sessionId: string;
    };
    browser.sessionId = attached.sessionId;
    await browser.send('Page.enable');
    await browser.send('Emulation.setDeviceMetricsOverride', {
      width: 1400,
      height: 1000,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return browser;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = ++this.nextId;
    const message = {
      id,
      method,
      params,
      ...(this.sessionId && method !== 'Target.createTarget' ? { sessionId: this.sessionId } : {}),
    };
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.socket.send(JSON.stringify(message));
    });
  }

  async goto(url: string): Promise<void> {
    await this.send('Page.navigate', { url });
  }

  async evaluate<T>(expression: string): Promise<T> {
    const result = (await this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (result.exceptionDetails) {
      throw new Error(result.exceptionDetails.exception?.description ?? result.exceptionDetails.text);
    }
    return result.result.value as T;
  }

  /** Waits until `expression` evaluates to a truthy value in the page, and returns it. */
  waitFor<T>(expression: string, what: string, timeoutMs = 30_000): Promise<T> {
    return eventually(
      async () => (await this.evaluate<T>(expression).catch(() => undefined)) || undefined,
      timeoutMs,
      what,
    );
  }

  async screenshot(name: string): Promise<void> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true })) as {
      data: string;
    };
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, name), Buffer.from(data, 'base64'));
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => {
      if (this.process.exitCode !== null || this.process.signalCode !== null) resolve(undefined);
      else this.process.once('exit', resolve);
    });
    await this.send('Browser.close').catch(() => undefined);
    this.socket.close();
    // Chromium writes its profile until it exits; remove the folder only then.
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true, maxRetries: 3 });
  }
}

let harness: ApiHarness;
let browser: Browser | undefined;
beforeAll(async () => {
  if (!chromiumPath) return;
  harness = await startApiHarness('ui', { workers: ['session', 'model', 'sandbox', 'backend'] });
  browser = await Browser.launch(chromiumPath);
});
afterAll(async () => {
  await browser?.close();
  await harness?.stop();
});

const spanCount = (selector: string) => `document.querySelectorAll(${JSON.stringify(selector)}).length`;

it.skipIf(!chromiumPath)(
  'shows the session list, the waterfall, the written file and a live second turn (needs chromium: scripts/setup/chromium.sh)',
  async () => {
    const page = browser!;
    const { sessionId } = await createScriptedSession(harness, 'ui');
    await runScriptedTurn(harness, sessionId);

    // Without a key the page asks for one; with it, the list shows the session.
    await page.goto(`${harness.baseURL}/ui`);
    await page.waitFor<boolean>(`document.getElementById('notice')?.textContent.includes('API key')`, 'the key prompt');
    await page.evaluate(`(() => {
      document.getElementById('api-key').value = ${JSON.stringify(harness.tenant.apiKey)};
      document.getElementById('key-form').requestSubmit();
    })()`);
    await page.waitFor(`document.querySelector('tr[data-session-id="${sessionId}"]')`, 'the session in the list');
    expect(
      await page.evaluate<string>(`document.querySelector('tr[data-session-id="${sessionId}"]').textContent`),
    ).toContain('idle');
    await page.screenshot('ui-session-list.png');

    // The session page: the waterfall has the turn's spans.
    await page.evaluate(`location.hash = '#/sessions/${sessionId}'`);
    await page.waitFor(
      `document.querySelector('[data-span-kind="tool"][data-span-name="refund_order"]')`,
      'the waterfall',
    );
    expect(await page.evaluate<number>(spanCount('#waterfall [data-span-kind="model_request"]'))).toBe(3);
    for (const name of ['bash', 'write', 'refund_order']) {
      expect(
        await page.evaluate<string>(`document.querySelector('[data-span-name="${name}"]').dataset.spanStatus`),
      ).toBe('ok');
    }
    expect(await page.evaluate<number>(spanCount('#waterfall [data-span-kind="wait"]'))).toBe(1);
    expect(
      await page.evaluate<string>(`document.querySelector('[data-span-name="refund_order"] .label').textContent`),
    ).toContain('approved by user');
    expect(await page.evaluate<string>(`document.getElementById('temporal-link').href`)).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/session-${sessionId}`,
    );
    // Drill-down: clicking a span opens its input and output.
    await page.evaluate(`document.querySelector('[data-span-name="bash"]').click()`);
    expect(await page.evaluate<string>(`document.querySelector('.span-detail').textContent`)).toContain(
      'hello from the sandbox',
    );
    expect(
      await page.evaluate<string>(
        `document.querySelector('[data-file-path="${writtenFile.path}"] .file-content').textContent`,
      ),
    ).toBe(writtenFile.content);
    expect(await page.evaluate<number>(spanCount('#tool-groups .tool-group'))).toBe(2);
    expect(await page.evaluate<string>(`document.getElementById('transcript').textContent`)).toContain(
      'Report written and A-1001 refunded.',
    );
    expect(await page.evaluate<number>(spanCount('#raw-events li'))).toBeGreaterThan(10);
    await page.screenshot('ui-session-waterfall.png');

    // A second turn arrives over the live stream, without a reload.
    await page.waitFor<boolean>(`document.getElementById('live-state').textContent === 'live'`, 'the live stream');
    await post(harness, `/v1/sessions/${sessionId}/events`, {
      events: [{ type: 'user.message', content: [{ type: 'text', text: 'And once more.' }] }],
    });
    await waitForIdle(harness, sessionId, 'end_turn', 2);
    await page.waitFor(`document.querySelector('#waterfall [data-turn="2"]')`, 'turn 2 in the waterfall');
    await page.waitFor<boolean>(
      `document.getElementById('transcript').textContent.includes('Second turn done.')`,
      'the live answer',
    );
    await page.waitFor<boolean>(
      `document.querySelectorAll('#waterfall [data-span-kind="model_request"]').length === 4`,
      'the live model request',
    );
    await page.evaluate(`document.querySelector('[data-tab="files"]').click()`);
    await page.screenshot('ui-session-files.png');
  },
);
