/**
 * The demo without platform credentials: a plugin none of whose settings are set runs against its
 * sandbox emulator (started in this process), and `serve` installs it into the default tenant
 * through the plugin's real OAuth flow — authorize, redirect with code and state, code exchange,
 * account identification — exactly as an admin's browser would.
 */
import type { LoadedPlugin, Logger, RunningSandbox } from '../contract/index.ts';
import type { InstallService } from '../install/install-service.ts';

export interface StartedSandbox {
  readonly pluginId: string;
  readonly sandbox: RunningSandbox;
}

/** Plugins that get a sandbox: they have one, and the operator set none of their settings. */
export function wantsSandbox(plugin: LoadedPlugin): boolean {
  return plugin.connector.sandbox !== null && plugin.settingStates.every((s) => s.state !== 'set');
}

export async function startSandboxes(plugins: readonly LoadedPlugin[], log: Logger): Promise<{ plugins: LoadedPlugin[]; started: StartedSandbox[] }> {
  const started: StartedSandbox[] = [];
  const out: LoadedPlugin[] = [];
  try {
    for (const plugin of plugins) {
      if (!wantsSandbox(plugin) || !plugin.connector.sandbox) {
        out.push(plugin);
        continue;
      }
      const module = await plugin.connector.sandbox();
      // Later sandboxes reuse the people of earlier ones: the demo's customers exist in several systems.
      const people = started.flatMap((s) => s.sandbox.people?.() ?? []);
      const sandbox = await module.start({ scale: 'demo', people });
      started.push({ pluginId: plugin.connector.id, sandbox });
      log.info({ plugin: plugin.connector.id, url: sandbox.url }, 'no credentials set: using the sandbox emulator');
      out.push({ ...plugin, settings: { ...plugin.settings, ...sandbox.settings } });
    }
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.sandbox.stop()));
    throw error;
  }
  return { plugins: out, started };
}

/** Installs each sandboxed plugin into the tenant through its OAuth flow; webhooks are pointed at us. */
export async function installSandboxes(options: { started: readonly StartedSandbox[]; plugins: readonly LoadedPlugin[]; installs: InstallService; tenantId: string; publicUrl: string; log: Logger }): Promise<void> {
  for (const { pluginId, sandbox } of options.started) {
    const began = await options.installs.begin(pluginId, options.tenantId);
    const response = await fetch(began.authorizeUrl, { redirect: 'manual' });
    const location = response.headers.get('location');
    if (response.status !== 302 || location === null) throw new Error(`${pluginId} sandbox did not redirect back from authorize (HTTP ${response.status})`);
    const done = await options.installs.complete(pluginId, Object.fromEntries(new URL(location).searchParams), began.browserBinding);
    const hooks = sandbox as RunningSandbox & { setWebhookTarget?: (url: string | null) => void };
    const target = new URL(`${options.publicUrl}/webhooks/${pluginId}`);
    const plugin = options.plugins.find((p) => p.connector.id === pluginId);
    for (const [name, value] of Object.entries(plugin?.connector.webhooks?.endpointQuery?.(done.platformAccountId) ?? {})) target.searchParams.set(name, value);
    hooks.setWebhookTarget?.(target.toString());
    options.log.info({ plugin: pluginId, installation: done.installationId, account: done.platformAccountId }, 'sandbox installed through OAuth; backfill queued');
  }
}
