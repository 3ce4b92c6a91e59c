// End-to-end tests of the dashboard in a real browser: Debian's Chromium, driven by playwright-core.
//
// It starts `flowstone demo --keep` (three real party servers on loopback; the demo job's lr_0 fails once at
// the host and is retried), then checks in the page what a user would look at: the DAG's statuses and
// attempts, the failed attempt's reason naming its party, the loss chart's points, the timeline in order, the
// jobs list updating live, a stop from the page stopping a running job at every party, the site page; and the
// feed itself: a reconnect with Last-Event-ID resumes right after it. Screenshots go to $FLOWSTONE_SHOTS.
//
// Environment: FLOWSTONE_BIN (the build folder with `flowstone`), FLOWSTONE_SHOTS (artefacts), CHROMIUM.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

const bin = process.env.FLOWSTONE_BIN || path.resolve('../build');
const shots = process.env.FLOWSTONE_SHOTS || path.join(bin, 'screenshots');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// Waits for runs of real jobs scale with FLOWSTONE_TEST_SLOWDOWN (a slow CI machine may set 2 or 3).
const SLOW = Number(process.env.FLOWSTONE_TEST_SLOWDOWN || 1);
const RUN_MS = 45000 * SLOW;
fs.rmSync(shots, { recursive: true, force: true }); // this run's artefacts only, no failure left from an earlier one
fs.mkdirSync(shots, { recursive: true });

// Three consecutive free ports on loopback (the demo's guest, host and arbiter), below Linux's ephemeral range
// (32768 and up), so an outgoing connection cannot take one between this check and the demo's bind.
async function freePorts() {
  const free = (port) => new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false))
      .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  for (let tries = 0; tries < 200; tries++) {
    const base = 20000 + Math.floor(Math.random() * 12000);
    if ((await free(base)) && (await free(base + 1)) && (await free(base + 2))) return base;
  }
  throw new Error('no three free ports');
}

async function api(port, method, route, body) {
  const url = `http://127.0.0.1:${port}/v2/${route}`;
  const response = method === 'GET' ? await fetch(url)
    : await fetch(url, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

async function waitFor(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try { last = await check(); if (last) return last; } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last && (last.message || JSON.stringify(last))})`);
}

// The server-sent events of one feed connection, read until `count` events arrived.
async function readFeed(port, headers, query, count) {
  const controller = new AbortController();
  const response = await fetch(`http://127.0.0.1:${port}/v2/dashboard/feed${query}`, { headers, signal: controller.signal });
  assert.equal(response.headers.get('content-type'), 'text/event-stream');
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const events = [];
  const timer = setTimeout(() => controller.abort(), 20000);
  try {
    while (events.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = {};
        for (const line of block.split('\n')) {
          const colon = line.indexOf(': ');
          if (colon > 0) event[line.slice(0, colon)] = line.slice(colon + 2);
        }
        if (event.event) events.push({ id: event.id, type: event.event, data: JSON.parse(event.data) });
      }
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events.slice(0, count); // one read may bring more than asked for
}

const LONG_JOB = (guest, host) => ({
  dag_schema: {
    schema_version: '2.1.0',
    dag: {
      parties: [{ role: 'guest', party_id: [guest] }, { role: 'host', party_id: [host] }],
      conf: { scheduler_party_id: guest, cores: 2, task: { engine_run: { cores: 1 } } },
      tasks: { slow_0: { component_ref: 'noop', parameters: { sleep: 120 } } },
    },
  },
});

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let demo;
let base;
let jobId;
let browser;

async function startDemo() {
  base = await freePorts();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowstone-dashboard-'));
  demo = spawn(path.join(bin, 'flowstone'), ['demo', '--keep', '--port', String(base), '--dir', path.join(dir, 'run')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stdout.on('data', (d) => { output += d; });
  demo.stderr.on('data', (d) => { output += d; });
  const exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    waitFor('the demo job', () => output.includes('Ctrl-C stops them'), 180000),
    exited.then((code) => { throw new Error(`demo exited ${code}:\n${output}`); }),
  ]);
  assert.ok(ready);
  assert.match(output, /job ended success at every party/);
  jobId = output.match(/#\/job\/(\d+)/)[1];
}

test('the job page shows the DAG, the retried task and where its first attempt failed', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}?task=lr_0`);
  for (const task of ['reader_0', 'psi_0', 'statistics_0', 'lr_0'])
    await page.locator(`[data-testid=dag-node-${task}][data-status=success]`).waitFor();
  assert.equal(await page.locator('[data-testid=dag-node-lr_0]').getAttribute('data-version'), '1');
  assert.equal(await page.locator('[data-testid=job-status] [data-status]').getAttribute('data-status'), 'success');
  const failed = page.locator('[data-testid=task-attempt][data-version="0"]');
  assert.equal(await failed.getAttribute('data-status'), 'failed');
  assert.match(await failed.locator('[data-testid=attempt-error]').innerText(), /failed at host:\d+: noop fails below version 1/);
  assert.equal(await page.locator('[data-testid=task-attempt][data-version="1"]').getAttribute('data-status'), 'success');
  const parties = await page.locator('[data-testid=party-statuses] tr').evaluateAll((rows) => rows.map((r) => r.dataset.party));
  assert.deepEqual(parties.sort(), ["arbiter:10001", "guest:9999", "host:10000"].sort());
  await page.screenshot({ path: path.join(shots, 'job-page.png'), fullPage: true });
});

test('the metrics tab draws the saved loss curve and tables', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}?task=lr_0&tab=metrics`);
  const chart = page.locator('[data-testid=metric-chart][data-metric=loss]');
  await chart.waitFor();
  assert.equal(await chart.getAttribute('data-points'), '10');
  assert.ok(await chart.locator('canvas').count() >= 1, 'uPlot drew a canvas');
  await page.screenshot({ path: path.join(shots, 'job-page-metrics.png') }); // the README's picture
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}?task=psi_0&tab=metrics`);
  await page.locator('[data-testid=metric-table][data-metric=intersection]').waitFor();
  assert.match(await page.locator('[data-testid=metric-table]').innerText(), /intersect_count\s+10/);
  await page.screenshot({ path: path.join(shots, 'metrics.png'), fullPage: true });
});

test('the data tab previews a task\'s output table', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}?task=psi_0&tab=data`);
  const preview = page.locator('[data-testid=data-preview]').first();
  await preview.waitFor();
  assert.match(await preview.innerText(), /output_data: 10 of 10 rows/);
  assert.equal(await preview.locator('tr').count(), 11); // the header and the 10 ids in common
});

test('the timeline lists every event of the job in order, and filters', async (page) => {
  const history = await api(base, 'GET', `job/history/query?job_id=${jobId}`);
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}`);
  await page.locator('[data-testid=timeline-row]').first().waitFor();
  await waitFor('every event', async () => (await page.locator('[data-testid=timeline-row]').count()) >= history.data.length);
  const versions = await page.locator('[data-testid=timeline-row]').evaluateAll((rows) => rows.map((r) => Number(r.dataset.version)));
  assert.deepEqual(versions, history.data.map((e) => e.version));
  assert.deepEqual(versions, [...versions].sort((a, b) => a - b));
  assert.equal(await page.locator('[data-testid=timeline-row]').first().getAttribute('data-kind'), 'JobCreated');
  // Who caused each event: the client that submitted the job, then the scheduler, workers, parties.
  assert.match(await page.locator('[data-testid=timeline-row]').first().getAttribute('data-actor'), /^client/);
  const actors = await page.locator('[data-testid=timeline-row]').evaluateAll((rows) => rows.map((r) => r.dataset.actor));
  assert.ok(actors.every(Boolean), 'every event names its actor');
  assert.ok(actors.includes('scheduler 9999') && actors.some((a) => a.startsWith('worker ')), actors.join());
  await page.fill('[data-testid=timeline-filter]', 'TaskPartyStatusChanged failed');
  await waitFor('the filter', async () => (await page.locator('[data-testid=timeline-row]').count()) < versions.length);
  const kinds = await page.locator('[data-testid=timeline-row]').evaluateAll((rows) => rows.map((r) => r.dataset.kind));
  assert.ok(kinds.length >= 1 && kinds.every((k) => k === 'TaskPartyStatusChanged'), kinds.join());
});

test('a job submitted elsewhere appears live, and a stop from its page stops it at every party', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/`);
  await page.locator('[data-testid=live].on').waitFor();
  await page.locator(`[data-testid=job-row][data-job="${jobId}"]`).waitFor(); // the list has loaded
  const before = await page.locator('[data-testid=job-row]').count();
  const submitted = await api(base, 'POST', 'job/submit', LONG_JOB('9999', '10000'));
  assert.equal(submitted.code, 0, JSON.stringify(submitted));
  const longJob = submitted.job_id;
  // No reload: the feed's events refresh the list.
  await page.locator(`[data-testid=job-row][data-job="${longJob}"]`).waitFor({ timeout: 15000 * SLOW });
  assert.ok((await page.locator('[data-testid=job-row]').count()) > before);
  await page.click(`a[href="#/job/${longJob}"]`);
  await page.locator('[data-testid=job-status] [data-status=running]').waitFor({ timeout: RUN_MS });
  let asked = '';
  page.once('dialog', (dialog) => { asked = dialog.message(); dialog.accept(); });
  await page.click('[data-testid=stop-button]');
  await waitFor('the stop to be accepted', async () => /accepted/.test(await page.locator('[data-testid=action-result]').innerText()));
  assert.match(asked, /Stop job .* at every party/);
  await page.locator('[data-testid=job-status] [data-status=canceled]').waitFor({ timeout: RUN_MS });
  await page.screenshot({ path: path.join(shots, 'stopped-job.png'), fullPage: true });
  for (const port of [base, base + 1]) {
    await waitFor(`canceled at port ${port}`, async () => {
      const rows = await api(port, 'GET', `job/query?job_id=${longJob}`);
      return rows.code === 0 && rows.data[0].status === 'canceled';
    }, 30000);
  }
});

test('the site page shows capacity, reachable partners and providers', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/site`);
  await page.locator('[data-testid=site-capacity]').waitFor();
  assert.match(await page.locator('[data-testid=site-capacity]').innerText(), /Party 9999[\s\S]*Cores: \d+ of \d+ in use/);
  for (const party of ['10000', '10001']) {
    const row = page.locator(`[data-testid=partners] tr[data-party="${party}"]`);
    await row.waitFor();
    assert.match(await row.innerText(), /up/);
  }
  await page.screenshot({ path: path.join(shots, 'site.png'), fullPage: true });
});

test('the feed resumes after Last-Event-ID: nothing missed, nothing twice', async () => {
  const first = await readFeed(base, {}, '?after=0', 12);
  assert.deepEqual(first.map((e) => Number(e.id)), first.map((e) => e.data.seq));
  const seqs = first.map((e) => e.data.seq);
  assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  const cut = first[5];
  const resumed = await readFeed(base, { 'Last-Event-ID': cut.id }, '', 6);
  assert.deepEqual(resumed.map((e) => e.data.seq), first.slice(6).map((e) => e.data.seq));
  const fresh = await readFeed(base, {}, '', 1);
  assert.equal(fresh[0].type, 'hello');
  const bad = await api(base, 'GET', 'dashboard/feed?after=x');
  assert.equal(bad.code, 5001);
  assert.match(JSON.stringify(bad), /after/);
});

test('a rerun from a task gives it and the tasks fed by it a new attempt, and the job succeeds again', async (page) => {
  await page.goto(`http://127.0.0.1:${base}/#/job/${jobId}?task=psi_0`);
  await page.locator('[data-testid=dag-node-statistics_0][data-version="0"]').waitFor();
  page.once('dialog', (dialog) => dialog.accept());
  await page.click('[data-testid=rerun-from-task]');
  await page.locator('[data-testid=dag-node-psi_0][data-version="1"][data-status=success]').waitFor({ timeout: RUN_MS });
  await page.locator('[data-testid=dag-node-statistics_0][data-version="1"][data-status=success]').waitFor({ timeout: RUN_MS });
  await page.locator('[data-testid=job-status] [data-status=success]').waitFor({ timeout: RUN_MS });
  assert.equal(await page.locator('[data-testid=dag-node-reader_0]').getAttribute('data-version'), '0'); // upstream kept
  assert.equal(await page.locator('[data-testid=dag-node-lr_0]').getAttribute('data-version'), '1'); // not fed by psi_0
});

test('with client authentication on, the page asks for an app and signs every call, the feed too', async (page) => {
  const port = await freePorts();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowstone-dashboard-auth-'));
  const conf = path.join(dir, 'service_conf.yaml');
  fs.writeFileSync(conf, `party_id: "9999"\nfateflow: {host: 127.0.0.1, http_port: ${port}}\n` +
    `flowstone: {data_dir: ${path.join(dir, 'data')}}\nauthentication: {client: true, site: false, permission: false}\n`);
  const server = spawn(path.join(bin, 'flowstone'), ['serve', '--config', conf], { stdio: 'ignore' });
  try {
    await waitFor('the server', async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).ok, 30000);
    const unsigned = await api(port, 'GET', 'job/list/query');
    assert.notEqual(unsigned.code, 0);
    await page.goto(`http://127.0.0.1:${port}/`);
    const form = page.locator('[data-testid=sign-in]');
    await form.waitFor();
    await form.locator('[name=appId]').fill('admin');
    await form.locator('[name=appToken]').fill('wrong');
    await form.locator('button').click();
    await page.locator('[data-testid=sign-in]').waitFor(); // refused again: varify failed
    assert.match(await page.locator('[data-testid=sign-in]').innerText(), /varify failed/);
    await page.locator('[data-testid=sign-in] [name=appId]').fill('admin');
    await page.locator('[data-testid=sign-in] [name=appToken]').fill('fate_flow_admin');
    await page.locator('[data-testid=sign-in] button').click();
    await page.locator('[data-testid=jobs-table]').waitFor();
    await page.locator('[data-testid=live].on').waitFor({ timeout: 10000 * SLOW });
    await waitFor('the party', async () => /party 9999/.test(await page.locator('[data-testid=party]').innerText()));
    assert.equal(await page.locator('[data-testid=sign-in]').count(), 0);
  } finally {
    server.kill('SIGTERM');
  }
});

let failures = 0;
try {
  await startDemo();
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  for (const { name, fn } of tests) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const started = Date.now();
    try {
      await fn(page);
      assert.deepEqual(errors, [], 'errors in the page');
      console.log(`ok   ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}\n     ${String(e.stack || e).split('\n').join('\n     ')}`);
      await page.screenshot({ path: path.join(shots, `failed-${tests.findIndex((t) => t.name === name)}.png`), fullPage: true }).catch(() => {});
    }
    await page.close();
  }
} catch (e) {
  failures++;
  console.log(`FAIL setup: ${e.stack || e}`);
} finally {
  if (browser) await browser.close();
  if (demo && demo.exitCode === null) {
    const exited = new Promise((resolve) => demo.once('exit', resolve));
    demo.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20000))]);
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
}
console.log(failures ? `${failures} failed` : `all ${tests.length} passed; screenshots in ${shots}`);
process.exit(failures ? 1 : 0);
