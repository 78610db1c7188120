// @ts-check
/* global window, document, fetch, URLSearchParams, HTMLButtonElement */
/**
 * The framed panel's page (the Zendesk sidebar), loaded after the ZAF SDK: connects to the host
 * (`ZAFClient.init()` reads `origin` and `app_guid` from this page's URL), asks it which record the
 * sidebar sits beside, fetches that record's cross-system history with the panel session as a
 * header, re-fetches when a filter is chosen, and asks the host to fit the iframe to the content.
 * No cookies: the session is in a meta tag of this page (see core/server/frame-session.ts).
 */

/**
 * @typedef {{
 *   get(path: string): Promise<Record<string, unknown>>,
 *   invoke(name: string, ...args: unknown[]): Promise<unknown>,
 * }} ZafClient
 */

(function () {
  const panel = document.getElementById('ledgerline-panel');
  const statusLine = document.getElementById('ledgerline-panel-status');
  const contentBox = document.getElementById('ledgerline-panel-content');
  const sessionMeta = document.querySelector('meta[name="ledgerline-panel-session"]');
  if (!panel || !statusLine || !contentBox || !sessionMeta) return;
  const [root, status, content] = [panel, statusLine, contentBox];
  const session = sessionMeta.getAttribute('content') ?? '';
  const sessionHeader = sessionMeta.getAttribute('data-header') ?? 'x-ledgerline-panel-session';
  const historyUrl = root.dataset.historyUrl ?? '';
  const contextPath = root.dataset.contextPath ?? '';
  const objectType = root.dataset.objectType ?? '';
  const hostName = root.dataset.hostName ?? 'the host';
  /** @type {{ objectId: string, kind: string, source: string, from: string }} */
  const state = { objectId: '', kind: '', source: '', from: '' };

  /** @param {string} text */
  function say(text) {
    status.textContent = text;
    status.hidden = false;
  }

  const sdk = /** @type {{ ZAFClient?: { init(): ZafClient | false } }} */ (/** @type {unknown} */ (window)).ZAFClient;
  const client = sdk ? sdk.init() : false;
  if (!client) {
    say(`This page is a ${hostName} app panel: open it from the Ledgerline app in ${hostName}, not on its own.`);
    return;
  }
  const zaf = client;

  /**
   * Fits the iframe to what is shown (ZAF `resize`); the host owns the iframe's size. Measured on
   * the body, not the document: a document is never shorter than its viewport, so its scrollHeight
   * would only ever let the iframe grow.
   */
  function fit() {
    const style = window.getComputedStyle(document.body);
    const height = Math.ceil(document.body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom));
    zaf.invoke('resize', { width: '100%', height: `${height}px` }).catch(() => {
      // A host that does not resize leaves the iframe scrolling; nothing else to do.
    });
  }

  async function load() {
    const query = new URLSearchParams({ objectType, objectId: state.objectId });
    for (const name of /** @type {const} */ (['kind', 'source', 'from'])) if (state[name] !== '') query.set(name, state[name]);
    root.setAttribute('aria-busy', 'true');
    try {
      const response = await fetch(`${historyUrl}?${query.toString()}`, {
        headers: { [sessionHeader]: session, accept: 'text/html' },
        credentials: 'omit',
        cache: 'no-store',
      });
      // Refusals come back as fragments too (expired session, unknown record): show them as they are.
      content.innerHTML = await response.text();
      status.hidden = true;
    } catch {
      say('Ledgerline could not be reached. Check the connection and reopen the app.');
    } finally {
      root.removeAttribute('aria-busy');
      fit();
    }
  }

  /**
   * Asks Ledgerline to send the customer their summary (a report request on their behalf), once.
   * @param {HTMLButtonElement} button
   */
  async function sendSummary(button) {
    const line = root.querySelector('[data-send-summary-status]');
    button.disabled = true;
    try {
      const response = await fetch(button.dataset.url ?? '', {
        method: 'POST',
        headers: { [sessionHeader]: session, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ objectType: button.dataset.objectType, objectId: button.dataset.objectId }),
        credentials: 'omit',
        cache: 'no-store',
      });
      /** @type {{ message?: string, error?: { message?: string } }} */
      const answer = /** @type {unknown} */ (await response.json()) ?? {};
      if (line) line.textContent = response.ok ? (answer.message ?? 'Requested.') : `Not sent: ${answer.error?.message ?? `HTTP ${response.status}`}`;
      if (!response.ok) button.disabled = false;
    } catch {
      if (line) line.textContent = 'Ledgerline could not be reached. Try again.';
      button.disabled = false;
    } finally {
      fit();
    }
  }

  root.addEventListener('click', (event) => {
    const send = event.target instanceof window.Element ? event.target.closest('button[data-action="send-summary"]') : null;
    if (send instanceof window.HTMLButtonElement) {
      void sendSummary(send);
      return;
    }
    const target = event.target instanceof window.Element ? event.target.closest('button[data-filter]') : null;
    if (!(target instanceof window.HTMLButtonElement)) return;
    const name = target.dataset.filter;
    if (name !== 'kind' && name !== 'source' && name !== 'from') return;
    state[name] = target.dataset.value ?? '';
    void load();
  });

  zaf
    .get(contextPath)
    .then((answer) => {
      const value = answer[contextPath];
      if (typeof value !== 'number' && typeof value !== 'string') {
        say(`${hostName} did not say which record this is (${contextPath} is empty here).`);
        fit();
        return;
      }
      state.objectId = String(value);
      say('Loading the history…');
      return load();
    })
    .catch((/** @type {unknown} */ error) => {
      say(`${hostName} did not answer (${error instanceof Error ? error.message : String(error)}).`);
      fit();
    });
})();
