const { chromium } = require('playwright-core');
const { execSync } = require('child_process');
(async () => {
  const b = await chromium.launch({ executablePath: '/usr/lib/chromium/chromium', args: ['--disable-gpu','--no-sandbox', ...process.argv.slice(2)] });
  for (let i = 0; i < 3; i++) { const c = await b.newContext(); await c.newPage(); }
  const cdp = await b.newBrowserCDPSession();
  const t = await cdp.send('Target.getTargets', { filter: [{}] });
  console.log(t.targetInfos.map(x => [x.type, x.url, (x.browserContextId||'').slice(0,6)].join(' ')).join('\n'));
  console.log('top-chrome-webui renderers:', execSync(`pgrep -fc -- '--top-chrome-webui' || true`).toString().trim(), 'all renderers:', execSync(`pgrep -fc -- '--type=renderer' || true`).toString().trim());
  await b.close();
})();
