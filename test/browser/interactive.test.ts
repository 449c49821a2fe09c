/**
 * The interactive path, as a person uses it: `npm run notebook` starts the classic Jupyter front end
 * on the committed tslab kernelspec; in Chromium, notebook 02 (quick mode) is run cell by cell with
 * Shift+Enter, waiting for each; its plotly figures must render and no cell may show an error;
 * then `k` is edited in the parameters cell and the cells are run again: the displayed numbers change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const root = resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const reports = mkdtempSync(join(tmpdir(), 'dknn-interactive-'));
let server: ChildProcess | undefined;

test.after(() => {
  server?.kill('SIGTERM');
  rmSync(reports, { recursive: true, force: true });
});

/** Starts `scripts/notebook.mjs --quick` and resolves with the URL it prints. */
function startServer(): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    server = spawn(process.execPath, [join(root, 'scripts', 'notebook.mjs'), '--quick'], {
      cwd: root,
      env: { ...process.env, DKNN_REPORT_DIR: reports },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/tree\?token=([0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(`${m[1]}/notebooks/02-calibrate.ipynb?token=${m[2]}`);
      }
    };
    server.stdout!.on('data', onData);
    server.stderr!.on('data', onData);
    server.on('exit', (code) => reject(new Error(`the notebook server exited with ${code}:\n${out}`)));
  });
}

/** The classic front end's page object, as far as the test uses it. */
interface JupyterPage {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the front end's own untyped API
  notebook: any;
}

/** Runs every cell from the selected one to the end with Shift+Enter, waiting for each to finish. */
async function runToEnd(page: Page): Promise<void> {
  const count = await page.evaluate(() => (window as unknown as { Jupyter: JupyterPage }).Jupyter.notebook.ncells());
  for (;;) {
    const i = await page.evaluate(() =>
      (window as unknown as { Jupyter: JupyterPage }).Jupyter.notebook.get_selected_index(),
    );
    await page.keyboard.press('Shift+Enter');
    await page.waitForFunction(
      (idx) => {
        const nb = (window as unknown as { Jupyter: JupyterPage }).Jupyter.notebook;
        const cell = nb.get_cell(idx);
        const busy = document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_busy_icon');
        return (
          cell.cell_type !== 'code' ||
          (cell.input_prompt_number !== '*' && cell.input_prompt_number !== undefined && !busy)
        );
      },
      i,
      { timeout: 120_000, polling: 200 },
    );
    if (i >= count - 1) break;
  }
}

async function problems(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll('.output_error, .output_stderr')).map((e) =>
      (e.textContent ?? '').slice(0, 300),
    ),
  );
}

test(
  'notebook 02 runs cell by cell in the browser, renders its figures, and re-runs with another k',
  { timeout: 240_000 },
  async () => {
    const url = await startServer();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForFunction(
        () =>
          (window as unknown as { Jupyter: JupyterPage }).Jupyter?.notebook?.kernel?.is_connected?.() &&
          document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'),
        undefined,
        { timeout: 90_000 },
      );
      await page.locator('.cell').first().click();
      await page.keyboard.press('Escape');
      await runToEnd(page);
      assert.deepEqual(await problems(page), [], 'no cell shows an error');
      const figures = await page.locator('.dknn-figure').count();
      assert.ok(figures >= 3, `figures displayed: ${figures}`);
      await page.waitForFunction((n) => document.querySelectorAll('.dknn-figure .main-svg').length >= n, figures, {
        timeout: 30_000,
      });
      const before = await page.locator('text=/The results below use k = \\d+/').first().textContent();
      assert.match(before ?? '', /k = 75 /);
      const summaryBefore = await page.locator('table.dknn-table').nth(1).textContent();

      // Edit k in the parameters cell as a person would: into the editor, select all, type, run below.
      const params = page.locator('.cell').nth(1);
      const text = await page.evaluate(
        () => (window as unknown as { Jupyter: JupyterPage }).Jupyter.notebook.get_cell(1).get_text() as string,
      );
      assert.match(text, /k: 75,/);
      await params.locator('.CodeMirror').click();
      await page.keyboard.press('Control+A');
      await page.keyboard.insertText(text.replace('k: 75,', 'k: 30,'));
      await runToEnd(page);
      assert.deepEqual(await problems(page), [], 'no cell shows an error after the edit');
      const after = await page.locator('text=/The results below use k = \\d+/').first().textContent();
      assert.match(after ?? '', /k = 30 /, 'the displayed k follows the edit');
      const summaryAfter = await page.locator('table.dknn-table').nth(1).textContent();
      assert.notEqual(summaryAfter, summaryBefore, 'the summary table changed');
      assert.deepEqual(pageErrors, [], 'no script errors in the page');
    } finally {
      await browser.close();
    }
  },
);
