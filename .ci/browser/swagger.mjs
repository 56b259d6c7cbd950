// Loads Swagger UI, authorizes with a token, runs "create binding" and expects 201; saves a screenshot.
// Usage: GATEWAY_URL=http://127.0.0.1:8080 TOKEN=... node swagger.mjs
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const base = process.env.GATEWAY_URL;
const token = process.env.TOKEN;
const artifacts = process.env.ARTIFACTS_DIR ?? 'artifacts';
if (!base || !token) throw new Error('GATEWAY_URL and TOKEN are required');
mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  await page.goto(`${base}/swagger-ui/`);
  await page.locator('button.authorize').first().click();
  await page.locator('.modal-ux input[type=text], .modal-ux input[type=password]').first().fill(token);
  await page.locator('.modal-ux .auth-btn-wrapper button.authorize').click();
  await page.locator('.modal-ux button.btn-done').click();

  const op = page.locator('#operations-bindings-create_binding');
  await op.locator('.opblock-summary').first().click();
  await op.locator('button.try-out__btn').click();
  const body = JSON.stringify({
    callerNum: '+8618612345678',
    calleeNum: '+8618612345679',
    relationNum: '+8617000000001',
  }, null, 2);
  await op.locator('textarea.body-param__text').fill(body);
  await op.locator('button.execute').click();

  const status = op.locator('.live-responses-table .response .response-col_status').first();
  await status.waitFor({ timeout: 15000 });
  const code = (await status.innerText()).trim();
  await page.screenshot({ path: `${artifacts}/swagger-create-binding.png`, fullPage: true });
  if (!code.startsWith('201')) throw new Error(`create binding answered ${code}, expected 201`);
  const text = await op.locator('.live-responses-table .response .response-col_description pre').first().innerText();
  if (!text.includes('"status": "active"')) throw new Error(`unexpected response body: ${text}`);
  console.log('swagger ui: create binding answered 201, binding active; screenshot saved');
} finally {
  await browser.close();
}
