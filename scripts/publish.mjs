#!/usr/bin/env node
// Copies a folder of reports into a site ready for any static host, with a SHA256SUMS manifest.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const USAGE = `Usage: npm run publish -- DIR [--from REPORTS]
Copies the reports (default REPORTS: reports/) into DIR, a new or empty folder: index.html, every
<notebook>.html, <notebook>.results.json and per-input CSV, and verify.json when the run was
verified; then writes DIR/SHA256SUMS (check it with: cd DIR && sha256sum -c SHA256SUMS).
Every link and source in the pages must be relative and point to a published file (a report
is self-contained); an absolute path or a file: link is refused, naming the page and the link.
  -h, --help   this text`;

const root = resolve(new URL('..', import.meta.url).pathname);

function fail(message) {
  console.error(`publish: ${message}`);
  process.exit(2);
}

function parse(argv) {
  const o = { from: join(root, 'reports'), dir: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--from') {
      if (i + 1 >= argv.length) fail('--from needs a folder');
      o.from = resolve(argv[++i]);
    } else if (a.startsWith('-')) fail(`unknown option ${a}\n\n${USAGE}`);
    else if (o.dir) fail(`one target folder, found ${o.dir} and ${a}`);
    else o.dir = resolve(a);
  }
  if (!o.dir) fail(`name the folder to publish into\n\n${USAGE}`);
  return o;
}

const PUBLISHED = /^(index\.html|verify\.json|[\w.-]+\.(html|results\.json|csv))$/;

/** The links of a page that must resolve inside the site: href and src attributes of its tags (not inside scripts or styles) that are not external or anchors. */
function localLinks(html) {
  const out = [];
  const markup = html.replace(/<script\b[\s\S]*?<\/script>/gi, '').replace(/<style\b[\s\S]*?<\/style>/gi, '');
  for (const m of markup.matchAll(/<[a-z][^>]*?\s(?:href|src)\s*=\s*("([^"]*)"|'([^']*)')/gi)) {
    const link = m[2] ?? m[3];
    if (/^(https?:|mailto:|data:|javascript:|#)/i.test(link) || link === '') continue;
    out.push(link);
  }
  return out;
}

const opts = parse(process.argv.slice(2));
if (!existsSync(join(opts.from, 'index.html')))
  fail(`${opts.from} has no index.html; run the notebooks first (npm run reproduce), or pass --from DIR`);
if (opts.dir === opts.from || opts.dir.startsWith(opts.from + sep) || opts.from.startsWith(opts.dir + sep))
  fail(`the site ${opts.dir} and the reports ${opts.from} must not contain each other`);
if (existsSync(opts.dir) && (!statSync(opts.dir).isDirectory() || readdirSync(opts.dir).length > 0))
  fail(`${opts.dir} exists and is not an empty folder; name a new folder`);

const files = readdirSync(opts.from)
  .filter((f) => PUBLISHED.test(f) && statSync(join(opts.from, f)).isFile())
  .sort();
const names = new Set(files);
for (const f of files.filter((x) => x.endsWith('.html'))) {
  for (const link of localLinks(readFileSync(join(opts.from, f), 'utf8'))) {
    const path = decodeURIComponent(link.split(/[?#]/)[0]);
    if (/^(file:|\/|[a-z]+:)/i.test(link))
      fail(`${f}: the link ${JSON.stringify(link)} is not relative; a site needs relative links`);
    const target = relative(opts.from, resolve(opts.from, dirname(f), path));
    if (!names.has(target)) fail(`${f}: the link ${JSON.stringify(link)} points to ${target}, which is not published`);
  }
}

// Written beside, then renamed: the site is whole or absent.
const tmp = `${opts.dir}.partial-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
const sums = [];
try {
  for (const f of files) {
    const bytes = readFileSync(join(opts.from, f));
    writeFileSync(join(tmp, f), bytes);
    sums.push(`${createHash('sha256').update(bytes).digest('hex')}  ${f}`);
  }
  writeFileSync(join(tmp, 'SHA256SUMS'), `${sums.join('\n')}\n`);
  if (existsSync(opts.dir)) rmSync(opts.dir, { recursive: true });
  mkdirSync(dirname(opts.dir), { recursive: true });
  renameSync(tmp, opts.dir);
} catch (err) {
  rmSync(tmp, { recursive: true, force: true });
  fail(`cannot write ${opts.dir}: ${err.code ?? err.message}`);
}
const bytes = files.reduce((s, f) => s + statSync(join(opts.dir, f)).size, 0);
console.log(`published ${files.length} files (${(bytes / 1e6).toFixed(1)} MB) and SHA256SUMS → ${opts.dir}`);
