/**
 * The Zendesk Apps framework SDK (`zendesk_app_framework_sdk`, the package Zendesk publishes) as
 * one browser script, built once at startup from its CommonJS `lib/`: each module is wrapped in a
 * function, `require` is a lookup in a table of the relative requires found in the sources, and
 * the entry's export becomes `window.ZAFClient` (as Zendesk's hosted build does). No bundler, no
 * copy of the SDK in the repository: the installed package is the source of truth.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';

export interface BrowserScript {
  readonly source: string;
  /** Content hash for cache-busting URLs. */
  readonly version: string;
}

const requireCall = /\brequire\(\s*(['"])(\.{1,2}\/[^'"]+)\1\s*\)/g;

/** `lib/client.js` and its relative requires, transitively, keyed by path relative to `lib/`. */
function collectModules(entry: string): Map<string, { source: string; requires: Record<string, string> }> {
  const root = dirname(entry);
  const modules = new Map<string, { source: string; requires: Record<string, string> }>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const name = relative(root, file).split(sep).join('/');
    if (modules.has(name)) continue;
    const source = readFileSync(file, 'utf8');
    const requires: Record<string, string> = {};
    for (const match of source.matchAll(requireCall)) {
      const request = match[2]!;
      const target = join(dirname(file), request.endsWith('.js') ? request : `${request}.js`);
      if (!target.startsWith(root + sep)) throw new Error(`zaf sdk: ${name} requires ${request}, outside the package's lib/`);
      requires[request] = relative(root, target).split(sep).join('/');
      pending.push(target);
    }
    modules.set(name, { source, requires });
  }
  return modules;
}

export function buildZafSdkScript(): BrowserScript {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('zendesk_app_framework_sdk');
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version?: unknown };
  const modules = collectModules(entry);
  const entryName = relative(dirname(entry), entry).split(sep).join('/');
  const definitions = [...modules.entries()]
    .map(([name, m]) => `${JSON.stringify(name)}: [${JSON.stringify(m.requires)}, function (module, exports, require) {\n${m.source}\n}]`)
    .join(',\n');
  // Not 'use strict': the modules keep the (sloppy) semantics they were written for.
  const source = `/*! zendesk_app_framework_sdk ${String(pkg.version)} (Apache-2.0, (c) Zendesk), its CommonJS lib wrapped for the browser by Ledgerline */
(function () {
  var definitions = {
${definitions}
  };
  var cache = {};
  function load(name) {
    if (cache[name]) return cache[name].exports;
    var definition = definitions[name];
    if (!definition) throw new Error('zaf sdk: no module ' + name);
    var module = { exports: {} };
    cache[name] = module;
    definition[1].call(module.exports, module, module.exports, function (request) {
      var target = definition[0][request];
      if (!target) throw new Error('zaf sdk: ' + name + ' requires ' + request + ', which was not bundled');
      return load(target);
    });
    return module.exports;
  }
  window.ZAFClient = load(${JSON.stringify(entryName)});
})();
`;
  return { source, version: createHash('sha256').update(source).digest('hex').slice(0, 12) };
}
