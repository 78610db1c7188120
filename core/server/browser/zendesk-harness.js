// @ts-check
/* global window, document */
/**
 * The host side of the Zendesk Apps framework for the console's sidebar harness: posts the signed
 * first load into the app iframe exactly as Zendesk does (a form POST with `token`), then answers
 * the ZAF SDK's postMessage protocol as Zendesk's host frame would
 * (node_modules/zendesk_app_framework_sdk/lib/client.js is the other side):
 *
 * - app → host `{key: 'iframe.handshake', message: {version}, appGuid, instanceGuid}`;
 *   host → app `{key: 'zaf.app.registered', message: {context, metadata}}`.
 * - app → host `{id, request: 'get', params: [paths]}`; host → app `{id, result: {<path>: value, errors: {<path>: {...}}}}`.
 * - app → host `{id, request: 'invoke', params: {resize: [{width, height}]}}`; the host resizes the iframe.
 * - app → host `{key: 'iframe.on:<event>'}`: subscriptions, logged.
 *
 * Messages are JSON strings both ways, and only those from the app frame at our own origin count.
 */
(function () {
  const config = document.getElementById('zendesk-harness');
  const frame = document.getElementById('zendesk-app-frame');
  const form = document.getElementById('zendesk-first-load');
  const log = document.getElementById('harness-log');
  const heightOut = document.getElementById('harness-frame-height');
  if (!config || !(frame instanceof window.HTMLIFrameElement) || !(form instanceof window.HTMLFormElement) || !log || !heightOut) return;
  const appFrame = frame;
  const frameHeight = heightOut;
  const origin = window.location.origin;
  /** @param {string | undefined} json @returns {Record<string, unknown>} */
  const record = (json) => {
    const value = /** @type {unknown} */ (JSON.parse(json ?? '{}'));
    return typeof value === 'object' && value !== null ? /** @type {Record<string, unknown>} */ (value) : {};
  };
  const answers = record(config.dataset.answers);
  const context = record(config.dataset.context);
  const metadata = record(config.dataset.metadata);

  /** @param {string} line */
  function note(line) {
    const item = document.createElement('li');
    item.textContent = `${new Date().toISOString().slice(11, 23)} ${line}`;
    log?.append(item);
  }

  /** @param {Record<string, unknown>} message */
  function reply(message) {
    appFrame.contentWindow?.postMessage(JSON.stringify(message), origin);
  }

  /** A CSS length the app may ask for: pixels (number or "420px") or a percentage. */
  /** @param {unknown} value @param {boolean} percentAllowed */
  function cssLength(value, percentAllowed) {
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 10000) return `${Math.round(value)}px`;
    if (typeof value !== 'string') return null;
    if (/^\d{1,5}(px)?$/.test(value)) return value.endsWith('px') ? value : `${value}px`;
    if (percentAllowed && /^\d{1,3}%$/.test(value)) return value;
    return null;
  }

  /** @param {unknown} args */
  function resize(args) {
    const size = Array.isArray(args) && typeof args[0] === 'object' && args[0] !== null ? /** @type {Record<string, unknown>} */ (args[0]) : {};
    const height = cssLength(size.height, false);
    const width = size.width === undefined ? null : cssLength(size.width, true);
    if (height === null) return { name: 'InvalidArgumentError', message: 'resize needs a height in pixels' };
    appFrame.style.height = height;
    if (width !== null) appFrame.style.width = width;
    frameHeight.textContent = height;
    appFrame.dataset.resizedTo = height;
    return null;
  }

  window.addEventListener('message', (event) => {
    if (event.source !== appFrame.contentWindow || event.origin !== origin) return;
    /** @type {unknown} */
    let parsed;
    try {
      parsed = typeof event.data === 'string' ? JSON.parse(event.data) : event.data;
    } catch {
      return;
    }
    if (typeof parsed !== 'object' || parsed === null) return;
    const data = /** @type {Record<string, unknown>} */ (parsed);
    const key = typeof data.key === 'string' ? data.key : '';
    if (key === 'iframe.handshake') {
      note(`handshake from the app (SDK ${JSON.stringify(/** @type {{version?: unknown}} */ (data.message ?? {}).version ?? '?')})`);
      reply({ key: 'zaf.app.registered', message: { context, metadata } });
      return;
    }
    if (key.startsWith('iframe.')) {
      note(`app message ${key}`);
      return;
    }
    const id = data.id;
    if (data.request === 'get' && Array.isArray(data.params)) {
      /** @type {Record<string, unknown>} */
      const result = { errors: {} };
      const errors = /** @type {Record<string, unknown>} */ (result.errors);
      for (const path of data.params) {
        if (typeof path !== 'string') continue;
        if (Object.prototype.hasOwnProperty.call(answers, path) && answers[path] !== null) result[path] = answers[path];
        else errors[path] = { name: 'InvalidPathError', message: 'is not available in this location', path };
        note(`get ${path} → ${JSON.stringify(result[path] ?? null)}`);
      }
      reply({ id, result });
      return;
    }
    if (data.request === 'invoke' && typeof data.params === 'object' && data.params !== null) {
      /** @type {Record<string, unknown>} */
      const errors = {};
      for (const [name, args] of Object.entries(data.params)) {
        const problem = name === 'resize' ? resize(args) : { name: 'InvalidActionError', message: 'is not supported by the harness' };
        if (problem !== null) errors[name] = { ...problem, path: name };
        note(`invoke ${name} ${JSON.stringify(args)}${problem ? ` refused: ${problem.message}` : ''}`);
      }
      reply({ id, result: { errors } });
    }
  });

  note('first load: POST token to the app iframe');
  form.submit();
})();
