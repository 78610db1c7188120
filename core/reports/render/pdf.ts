/**
 * HTML to PDF through Debian's Chromium, driven by playwright-core (Chromium's printToPDF). The
 * browser starts once and serves every print; each print gets its own context with JavaScript
 * off and every request that is not a data: URL refused, so a report can neither run code nor
 * reach the network while it is printed. The launch flags keep Chromium away from Google's
 * services, which a closed network refuses anyway.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { z } from 'zod';
import { invalidInput, LedgerlineError } from '../../errors/index.ts';

export interface PdfPrinter {
  /** A4 PDF of a self-contained HTML document, "page x / y" in every page's footer. */
  print(html: string): Promise<Buffer>;
  close(): Promise<void>;
}

const PrinterOptions = z.strictObject({ executablePath: z.string().min(1).optional() }).default({});

/** Headless Debian Chromium that does not reach for Google's services (the browser tests launch it so too). */
export const quietChromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const launchArgs = [
  ...quietChromiumArgs,
  // Request interception alone still lets an <iframe> open a connection before its request is
  // refused; with no host resolving (IP addresses included), nothing can be reached at all.
  '--host-resolver-rules=MAP * ~NOTFOUND',
];

// Chromium fills the page-number spans of this template itself; it runs with no stylesheet, hence the inline style.
const footerTemplate = '<div style="width:100%;font-size:8px;color:#5b6472;text-align:center;font-family:sans-serif;"><span class="pageNumber"></span> / <span class="totalPages"></span></div>';

/** A running browser with one locked-down context and the pages it has finished printing with. */
interface Session {
  readonly browser: Browser;
  readonly context: BrowserContext;
  readonly idle: Page[];
}

async function launch(executablePath: string): Promise<Session> {
  if (!existsSync(executablePath)) {
    throw new LedgerlineError('LL_UNAVAILABLE', `PDF rendering needs Chromium, and there is none at ${executablePath} (install Debian's chromium package or set CHROMIUM_PATH)`, { details: { field: 'CHROMIUM_PATH' } });
  }
  let browser: Browser;
  try {
    // Loaded on the first PDF only: every other command starts without it.
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath, headless: true, args: launchArgs });
  } catch (error) {
    throw new LedgerlineError('LL_UNAVAILABLE', `Chromium at ${executablePath} did not start: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, { cause: error });
  }
  const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
  await context.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort('blockedbyclient')));
  return { browser, context, idle: [] };
}

/** Starts Chromium (CHROMIUM_PATH, else /usr/bin/chromium); LL_UNAVAILABLE when it is missing or will not start. */
export async function createPdfPrinter(options?: { executablePath?: string }): Promise<PdfPrinter> {
  const parsed = PrinterOptions.safeParse(options);
  if (!parsed.success) throw invalidInput('PDF printer options', parsed.error.issues);
  const executablePath = parsed.data.executablePath ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let session = await launch(executablePath);
  let closed = false;
  // A crashed browser is started again on the next print; concurrent prints share that one start.
  let relaunch: Promise<Session> | null = null;
  const running = async (): Promise<Session> => {
    if (session.browser.isConnected()) return session;
    relaunch ??= launch(executablePath).finally(() => (relaunch = null));
    session = await relaunch;
    return session;
  };

  return {
    async print(html) {
      if (closed) throw new LedgerlineError('LL_UNAVAILABLE', 'the PDF printer is closed');
      const { context, idle } = await running();
      // Opening a page costs a renderer start (seconds on a busy machine), so finished pages are
      // reused: with JavaScript off, setContent replaces everything the last report left behind.
      const page = idle.pop() ?? (await context.newPage());
      try {
        await page.setContent(html, { waitUntil: 'load' });
        const pdf = await page.pdf({
          format: 'A4',
          printBackground: true,
          displayHeaderFooter: true,
          headerTemplate: '<span></span>',
          footerTemplate,
          margin: { top: '14mm', bottom: '16mm', left: '12mm', right: '12mm' },
        });
        idle.push(page);
        return pdf;
      } catch (error) {
        await page.close().catch(() => undefined);
        throw error;
      }
    },
    async close() {
      closed = true;
      await session.browser.close();
    },
  };
}
