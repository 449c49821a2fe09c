/** `npm run publish -- DIR` (issue 30): a site with relative links only and a SHA256SUMS that checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const script = resolve(__dirname, '..', '..', 'scripts', 'publish.mjs');
const publish = (args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });

function reports(dir: string, index: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), index);
  writeFileSync(
    join(dir, '02-calibrate.html'),
    '<html><script>var a = \'<a href="/abs">\';</script><a href="#top">top</a></html>',
  );
  writeFileSync(join(dir, '02-calibrate.results.json'), '{"notebook":"02-calibrate"}\n');
  writeFileSync(join(dir, '02-calibrate.clean.csv'), 'a,b\n1,2\n');
  writeFileSync(join(dir, '02-calibrate.ipynb'), '{}');
  writeFileSync(join(dir, 'timings.json'), '{}');
}

test('publish copies the index, reports, results and CSVs with a SHA256SUMS that sha256sum accepts', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dknn-publish-'));
  try {
    const from = join(tmp, 'reports');
    reports(from, '<a href="02-calibrate.html">02</a> <a href="https://arxiv.org/abs/1803.04765">paper</a>');
    const site = join(tmp, 'site');
    const r = publish([site, '--from', from]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(readdirSync(site).sort(), [
      '02-calibrate.clean.csv',
      '02-calibrate.html',
      '02-calibrate.results.json',
      'SHA256SUMS',
      'index.html',
    ]);
    const sums = readFileSync(join(site, 'SHA256SUMS'), 'utf8').trim().split('\n');
    assert.equal(sums.length, 4);
    for (const line of sums) {
      const [hex, name] = line.split('  ');
      assert.equal(
        hex,
        createHash('sha256')
          .update(readFileSync(join(site, name)))
          .digest('hex'),
        name,
      );
    }
    const check = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: site, encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const again = publish([site, '--from', from]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /exists and is not an empty folder/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('an absolute link or a link to an unpublished file is refused, naming the page and the link, and nothing is written', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'dknn-publish-'));
  try {
    for (const [link, message] of [
      [
        '/home/me/reports/02-calibrate.html',
        /index.html: the link "\/home\/me\/reports\/02-calibrate.html" is not relative/,
      ],
      ['file:///tmp/x.html', /index.html: the link "file:\/\/\/tmp\/x.html" is not relative/],
      ['03-attacks.html', /index.html: the link "03-attacks.html" points to 03-attacks.html, which is not published/],
      ['02-calibrate.ipynb', /the link "02-calibrate.ipynb" points to 02-calibrate.ipynb, which is not published/],
    ] as const) {
      const from = join(tmp, `reports-${link.length}`);
      reports(from, `<a href="${link}">x</a>`);
      const site = join(tmp, `site-${link.length}`);
      const r = publish([site, '--from', from]);
      assert.equal(r.status, 2, link);
      assert.match(r.stderr, message);
      assert.ok(!existsSync(site), `${site} was not written`);
      assert.deepEqual(
        readdirSync(tmp).filter((f) => f.includes('.partial-')),
        [],
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
