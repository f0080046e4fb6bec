// puppeteer (pulled in by whatsapp-web.js) must never download a browser: there is no network for
// it here, and we drive the system Chromium through CHROME_PATH instead.
module.exports = { skipDownload: true };
