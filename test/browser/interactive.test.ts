/**
 * The interactive path, as a person uses it: `npm run notebook` starts the classic Jupyter front end
 * on the committed tslab kernelspec; in Chromium, the working copy of notebook 02 (quick mode) is
 * run cell by cell with Shift+Enter, waiting for each; its plotly figures must render and no cell
 * may show an error; `k` is edited in the parameters cell and the cells are run again: the
 * displayed numbers change. Then the figures must survive the front end: the first figure's cell
 * (the one that carried plotly.js) is re-run, the notebook saved and the page reloaded, and the
 * notebook opened in a second tab on the same kernel; every figure is drawn each time, and the
 * committed notebook is untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Page } from 'playwright-core';

const root = resolve(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const reports = mkdtempSync(join(tmpdir(), 'dknn-interactive-'));
const work = join('work', `browser-test-${process.pid}`);
const committed = join(root, 'notebooks', '02-calibrate.ipynb');
const committedBefore = readFileSync(committed, 'utf8');
let server: ChildProcess | undefined;
/** What the notebook server printed (shown when a check fails). */
let out = '';

test.after(() => {
  server?.kill('SIGTERM');
  rmSync(reports, { recursive: true, force: true });
  if (!process.env.DKNN_KEEP_WORK) rmSync(join(root, work), { recursive: true, force: true });
});

/** Starts `scripts/notebook.mjs --quick` and resolves with the URL it prints. */
function startServer(): Promise<string> {
  return new Promise((resolveUrl, reject) => {
    server = spawn(process.execPath, [join(root, 'scripts', 'notebook.mjs'), '--quick', '--work', work], {
      cwd: root,
      env: { ...process.env, DKNN_REPORT_DIR: reports },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    out = '';
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/tree\/(\S+)\?token=([0-9a-f]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveUrl(`${m[1]}/notebooks/${m[2]}/02-calibrate.ipynb?token=${m[3]}`);
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

type JupyterWindow = Window & { Jupyter: JupyterPage };

/** Presses Shift+Enter on the selected cell and waits until it has run; returns its index. */
async function runSelected(page: Page): Promise<number> {
  const i = await page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.get_selected_index());
  await page.keyboard.press('Shift+Enter');
  await page.waitForFunction(
    (idx) => {
      const cell = (window as unknown as JupyterWindow).Jupyter.notebook.get_cell(idx);
      const busy = document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_busy_icon');
      return (
        cell.cell_type !== 'code' ||
        (cell.input_prompt_number !== '*' && cell.input_prompt_number !== undefined && !busy)
      );
    },
    i,
    { timeout: 120_000, polling: 200 },
  );
  return i;
}

/** Runs every cell from the selected one to the end with Shift+Enter, waiting for each to finish. */
async function runToEnd(page: Page): Promise<void> {
  const count = await page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.ncells());
  while ((await runSelected(page)) < count - 1);
}

/** Opens the notebook at `url` and waits for its kernel to be connected and idle. */
async function openNotebook(page: Page, url: string): Promise<void> {
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(
    () =>
      (window as unknown as JupyterWindow).Jupyter?.notebook?.kernel?.is_connected?.() &&
      document.querySelector('#kernel_indicator_icon')?.classList.contains('kernel_idle_icon'),
    undefined,
    { timeout: 90_000 },
  );
}

/** Waits until every figure place on the page holds a drawn plotly figure; returns how many there are. */
async function allFiguresDrawn(page: Page, what: string): Promise<number> {
  const n = await page.locator('.dknn-figure').count();
  assert.ok(n >= 3, `${what}: figures displayed: ${n}`);
  await page
    .waitForFunction((m) => document.querySelectorAll('.dknn-figure .main-svg').length >= m, n, { timeout: 30_000 })
    .catch(async () => {
      const drawn = await page.locator('.dknn-figure .main-svg').count();
      const said = await page.locator('.dknn-figure p').allTextContents();
      const trusted = await page.evaluate(
        () => (window as unknown as JupyterWindow).Jupyter.notebook.trusted as boolean,
      );
      assert.fail(
        `${what}: ${drawn} of ${n} figures drawn (notebook trusted: ${trusted}); ${said.join(' | ')}\nserver:\n${out.slice(-3000)}`,
      );
    });
  return n;
}

/** Index of the first code cell whose output holds a figure. */
function firstFigureCell(page: Page): Promise<number> {
  return page.evaluate(() => {
    const nb = (window as unknown as JupyterWindow).Jupyter.notebook;
    for (let i = 0; i < nb.ncells(); i++) if (nb.get_cell(i).element[0].querySelector('.dknn-figure')) return i;
    return -1;
  });
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
      await openNotebook(page, url);
      await page.locator('.cell').first().click();
      await page.keyboard.press('Escape');
      await runToEnd(page);
      assert.deepEqual(await problems(page), [], 'no cell shows an error');
      const figures = await allFiguresDrawn(page, 'first run');
      const before = await page.locator('text=/The results below use k = \\d+/').first().textContent();
      assert.match(before ?? '', /k = 75 /);
      const summaryBefore = await page.locator('table.dknn-table').nth(1).textContent();

      // Edit k in the parameters cell as a person would: into the editor, select all, type, run below.
      const params = page.locator('.cell').nth(1);
      const text = await page.evaluate(
        () => (window as unknown as JupyterWindow).Jupyter.notebook.get_cell(1).get_text() as string,
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

      // Re-run the first figure's cell: after the edit its output no longer carries plotly.js.
      const first = await firstFigureCell(page);
      assert.ok(first > 0, 'a cell shows a figure');
      await page.evaluate((i) => (window as unknown as JupyterWindow).Jupyter.notebook.select(i), first);
      await runSelected(page);
      assert.equal(await allFiguresDrawn(page, 'after re-running a figure cell'), figures);

      // Save and reload: the saved outputs are drawn again, with no inlined bundle on the page.
      await page.evaluate(() => (window as unknown as JupyterWindow).Jupyter.notebook.save_notebook());
      await page.waitForFunction(() => !(window as unknown as JupyterWindow).Jupyter.notebook.dirty);
      await openNotebook(page, url);
      assert.equal(await allFiguresDrawn(page, 'after save and reload'), figures);

      // A second tab on the same kernel: saved figures drawn, and a figure cell run there is drawn.
      const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      tab.on('pageerror', (e) => pageErrors.push(e.message));
      await openNotebook(tab, url);
      assert.equal(await allFiguresDrawn(tab, 'in a second tab'), figures);
      await tab.evaluate((i) => (window as unknown as JupyterWindow).Jupyter.notebook.select(i), first);
      await runSelected(tab);
      assert.equal(await allFiguresDrawn(tab, 'after running a figure cell in the second tab'), figures);
      assert.deepEqual(await problems(tab), [], 'no cell shows an error in the second tab');
      assert.deepEqual(pageErrors, [], 'no script errors in the pages');

      assert.equal(readFileSync(committed, 'utf8'), committedBefore, 'the committed notebook is untouched');
      assert.ok(existsSync(join(root, work, '02-calibrate.ipynb')), 'the work happened on a copy');
    } finally {
      await browser.close();
    }
  },
);
