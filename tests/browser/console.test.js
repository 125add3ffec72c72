// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * console.test.js - the web console in headless Chromium (Debian's
 * /usr/bin/chromium), driven by playwright-core, as an operator uses it:
 * log in (a wrong password first), add a service with an HTTP check, add
 * three reals deactivated (a bad weight and an address off the segment
 * first: the errors name their fields), activate each in one click, then
 * traffic through the VIP reaches all three; deactivate one, and new
 * connections avoid it; the charts; the service's quorum changed in its
 * edit form; the events; log out.
 * A screenshot of every page goes to OUT.
 *
 * Run by tests/ns/test_console.sh (console_browser) in the load balancer's
 * network namespace, with: CONSOLE_URL, CONSOLE_USER, CONSOLE_PASSWORD,
 * VIP (its address; port 80), REALS (three addresses), TRAFFIC (a program:
 * `TRAFFIC all` and `TRAFFIC avoid rN` exit 0 when the traffic is so), OUT.
 * Prints one line per step; exits 1 with the reason on the first failure.
 */
'use strict';

const { chromium } = require('playwright-core');
const { execFileSync } = require('child_process');
const path = require('path');

const env = process.env;
const URL = env.CONSOLE_URL;
const VIP = env.VIP;
const REALS = env.REALS.split(' ');
const OUT = env.OUT;
const SVC = VIP + ':80/tcp';
const STEP_MS = 10000;

const slug = (s) => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
const card = '#svc-' + slug(SVC);
const row = (addr) => '#real-' + slug(SVC + '-' + addr);

let page;
let shots = 0;
const t0 = Date.now();

function say(msg) {
  console.log(((Date.now() - t0) / 1000).toFixed(1).padStart(5) + ' s  ' + msg);
}

async function shot(name) {
  const f = path.join(OUT, String(++shots).padStart(2, '0') + '-' + name + '.png');
  await page.screenshot({ path: f, fullPage: true });
  say('screenshot ' + path.basename(f));
}

function traffic(...args) {
  try {
    const out = execFileSync(env.TRAFFIC, args, { encoding: 'utf8', timeout: 20000 });
    say('traffic ' + args.join(' ') + ': ' + out.trim().split('\n')[0]);
  } catch (e) {
    throw new Error('traffic ' + args.join(' ') + ': ' + String(e.stdout || e.message).trim());
  }
}

/* Poll fn (in Node; page.evaluate is not subject to the page's CSP, which
 * forbids the eval that page.waitForFunction needs) until it is true. */
async function until(what, fn, ms = STEP_MS) {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await page.waitForTimeout(100);
  }
}

async function text(sel) {
  return (await page.locator(sel).first().textContent()).trim();
}

async function expectFieldError(id, re) {
  const sel = '.field-error[data-for="' + id + '"]';
  await until(id + ' to show an error', async () => (await text(sel)).length > 0);
  const msg = await text(sel);
  if (!re.test(msg)) throw new Error(id + ': error "' + msg + '" does not match ' + re);
  say('field ' + id + ' says: ' + msg);
}

async function login() {
  await page.goto(URL + '/');
  await page.waitForSelector('#view-login:not([hidden])');
  await shot('login');
  await page.fill('#login-user', env.CONSOLE_USER);
  await page.fill('#login-password', 'not the password');
  await page.click('#login-submit');
  await until('the login error', async () => (await text('#login-error')).length > 0);
  say('wrong password: ' + await text('#login-error'));
  await page.fill('#login-password', env.CONSOLE_PASSWORD);
  await page.click('#login-submit');
  await page.waitForSelector('#view-overview:not([hidden])');
  await page.waitForSelector('#no-services:not([hidden])');
  say('logged in as ' + await text('#who'));
  await shot('overview-empty');
}

async function addService() {
  await page.click('#add-service');
  await page.waitForSelector('#view-service:not([hidden])');
  await page.fill('#svc-address', VIP);
  await page.fill('#svc-port', '80');
  await page.selectOption('#svc-check', 'http');
  await page.fill('#svc-path', '/health');
  await page.fill('#svc-interval', '0.5');
  await page.fill('#svc-timeout', '0.3');
  await shot('service-form');
  await page.click('#service-submit');
  await page.waitForSelector(card);
  say('service ' + SVC + ' added: ' + await text(card + ' .opts'));
}

async function openRealForm() {
  await page.locator(card + ' button', { hasText: 'Add real' }).click();
  await page.waitForSelector('#view-real:not([hidden])');
}

async function addReals() {
  await openRealForm();
  // Errors name their field: one the page sees, one the server refuses.
  await page.fill('#real-address', REALS[0]);
  await page.fill('#real-weight', '70000');
  await page.click('#real-submit');
  await expectFieldError('real-weight', /0\.\.65535/);
  await page.fill('#real-weight', '1');
  await page.fill('#real-address', '198.51.100.7');
  await page.click('#real-submit');
  await expectFieldError('real-address', /198\.51\.100\.7/);
  await shot('real-form-error');
  for (let i = 0; i < REALS.length; i++) {
    if (i) await openRealForm();
    await page.fill('#real-address', REALS[i]);
    await page.fill('#real-weight', String(i + 1));
    await page.uncheck('#real-active');
    if (!i) await shot('real-form');
    await page.click('#real-submit');
    await page.waitForSelector(row(REALS[i]));
    say('real ' + REALS[i] + ' added, weight ' + await text(row(REALS[i]) + ' .weight') +
      ', ' + await text(row(REALS[i]) + ' .health'));
  }
  for (const r of REALS) {
    if ((await text(row(r) + ' .weight')) !== '0') throw new Error(r + ' is not inactive');
  }
  await shot('overview-inactive');
}

async function setActive(addr, on, weight) {
  const want = on ? 'Deactivate' : 'Activate';
  await page.locator(row(addr) + ' button.act').click();
  await until(addr + ' to be ' + (on ? 'active' : 'inactive'), () => page.evaluate(([sel, b, w]) => {
    const tr = document.querySelector(sel);
    return !!tr && tr.querySelector('button.act').textContent === b &&
      tr.querySelector('.weight').textContent === w;
  }, [row(addr), want, String(weight)]));
  say((on ? 'activated ' : 'deactivated ') + addr + ': weight ' + weight);
}

async function activate() {
  for (let i = 0; i < REALS.length; i++) await setActive(REALS[i], true, i + 1);
  await until('three reals up', async () =>
    (await page.locator(card + ' td.health .badge.up').count()) === 3);
  say('all three up');
  traffic('all');
}

async function deactivateOne() {
  await setActive(REALS[1], false, 0);
  traffic('avoid', 'r2');
  // A few samples of the traffic after it for the charts.
  traffic('avoid', 'r2');
  await page.waitForTimeout(4500);
  await shot('overview-live');
}

async function editAndEvents() {
  await page.locator(card + ' button', { hasText: 'Edit' }).first().click();
  await page.waitForSelector('#view-service:not([hidden])');
  const path0 = await page.inputValue('#svc-path');
  if (path0 !== '/health') throw new Error('the edit form shows path "' + path0 + '"');
  await page.fill('#svc-quorum', '2');
  await shot('service-edit');
  await page.click('#service-submit');
  await page.waitForSelector('#view-overview:not([hidden])');
  await until('the quorum of 2 in the overview', async () => /quorum 2/.test(await text(card + ' .opts')));
  say('service changed: ' + await text(card + ' .opts'));
  await page.click('#nav-events');
  await page.waitForSelector('#view-events:not([hidden])');
  await until('events of alice and of health', async () => {
    const t = await text('#events-body');
    return /alice/.test(t) && /health/.test(t);
  });
  const n = await page.locator('#events-body tr').count();
  say(n + ' events, the newest: ' + await text('#events-body tr td.wrap'));
  await shot('events');
  await page.click('#logout');
  await page.waitForSelector('#view-login:not([hidden])');
  say('logged out');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const errors = [];
  try {
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(STEP_MS);
    page.on('pageerror', (e) => errors.push('page error: ' + e.message));
    page.on('dialog', (d) => d.accept());
    await login();
    await addService();
    await addReals();
    await activate();
    await deactivateOne();
    await editAndEvents();
  } finally {
    await browser.close();
  }
  if (errors.length) throw new Error(errors.join('; '));
  say('done');
}

main().catch((e) => {
  console.log('FAILED: ' + (e && e.message ? e.message.split('\n')[0] : e));
  process.exit(1);
});
