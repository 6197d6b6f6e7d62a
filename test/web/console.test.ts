/**
 * The operator console in a real browser (Debian's Chromium driven by playwright-core) against the real server:
 * connect with the admin token, see a registered device, queue a command through the form, and watch a real
 * device session turn it to `done` with its results, live, through the events stream.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createTestDevice, runSession, type TestDevice } from '../e2e/support/device.js';
import { ADMIN_TOKEN, startTestServer, type TestServer } from '../e2e/support/server.js';

const CHROMIUM = process.env['OMADM_CHROMIUM'] ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && process.env['CI'] !== undefined) {
  throw new Error(`${CHROMIUM} is missing: .ci/run installs Debian's chromium for the console tests`);
}

describe.skipIf(!available)('web console in Chromium', () => {
  let t: TestServer;
  let browser: Browser;
  let page: Page;
  let device: TestDevice;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestServer();
    device = await createTestDevice({ auth: 'md5' });
    await t.api.register(device);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(t.url);
    await page.fill('#token', ADMIN_TOKEN);
    await page.click('#token-form button');
  });

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  it('shows the server as ready and lists the registered device', async () => {
    await expect.poll(() => page.textContent('#health')).toBe('server ready');
    await page.waitForSelector('#device-list li');
    expect(await page.locator('#device-list li').allTextContents()).toEqual([device.deviceId]);
    await expect.poll(() => page.textContent('#events-state')).toBe('live');
  });

  it('queues a command through the form; the REST API has it queued', async () => {
    await page.click('#device-list li');
    await page.waitForSelector('#device-panel:not([hidden])');
    expect(await page.textContent('#device-title')).toBe(device.deviceId);
    await page.fill('#command-form input[name=target]', './DevDetail/SwV');
    await page.click('#command-form button[type=submit]');
    await page.waitForSelector('#command-table tbody tr');
    const row = page.locator('#command-table tbody tr').first();
    expect(await row.locator('td').nth(1).textContent()).toBe('Get');
    expect(await row.locator('td').nth(2).textContent()).toBe('./DevDetail/SwV');
    expect(await row.locator('td').nth(3).textContent()).toBe('queued');
    const id = Number(await row.locator('td').first().textContent());
    expect((await t.api.command(device.deviceId, id)).state).toBe('queued');
  });

  it('follows a real device session live: the command turns done with its result, and the tree fills in', async () => {
    const run = await runSession(device, { url: t.dm });
    expect(run.ended).toMatchObject({ reason: 'completed' });
    const row = page.locator('#command-table tbody tr').first();
    await expect.poll(() => row.locator('td').nth(3).textContent(), { timeout: 10_000 }).toBe('done');
    expect(await row.locator('td').nth(4).textContent()).toBe('200');
    expect(await row.locator('td').nth(5).textContent()).toBe('./DevDetail/SwV = 2.1.0');
    const events = await page.locator('#event-list li').allTextContents();
    expect(events.some((text) => text.includes('session.started') && text.includes(device.deviceId))).toBe(
      true,
    );
    const treeText = await page.locator('#tree-table tbody').textContent();
    expect(treeText).toContain('./DevInfo/Man');
    expect(treeText).toContain('Acme');
    expect(await page.locator('#message-list li').count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
  });
});
