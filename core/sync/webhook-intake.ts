/**
 * A platform's webhook delivery, end to end before the 200: the plugin verifies the signature
 * (constant time, freshness window) and parses the body into refresh hints; the hints are stored
 * once per event id and a hints job is queued per stream. Processing happens in a worker, so the
 * platform gets its answer fast.
 */
import type { InboundRequest } from '../contract/index.ts';
import { LedgerlineError, inPlugin, isLedgerlineError } from '../errors/index.ts';
import type { SqlSession } from '../store/index.ts';
import { recordHints, type HintIntake } from './refresh-hints.ts';
import type { SyncPlugin } from './sync-engine.ts';
import type { SyncQueue } from './sync-queue.ts';

export interface WebhookIntakeOptions {
  readonly sql: SqlSession;
  readonly plugins: readonly SyncPlugin[];
  /** Where hints jobs go; null queues nothing (the worker's next scheduled run picks the hints up). */
  readonly queue: () => SyncQueue | null;
  readonly now?: () => Date;
}

export function createWebhookIntake(options: WebhookIntakeOptions) {
  const now = options.now ?? (() => new Date());
  return async (pluginId: string, request: InboundRequest): Promise<HintIntake> => {
    const plugin = options.plugins.find((p) => p.connector.id === pluginId);
    const webhooks = plugin?.connector.webhooks;
    if (!plugin || !webhooks) throw new LedgerlineError('LL_NOT_FOUND', `no plugin '${pluginId}' takes webhooks here`);
    try {
      webhooks.verify(request, plugin.settings, now());
    } catch (error) {
      if (isLedgerlineError(error, 'LL_BAD_SIGNATURE')) throw error;
      throw new LedgerlineError('LL_BAD_SIGNATURE', 'the webhook signature did not verify', { cause: error });
    }
    let hints;
    try {
      hints = webhooks.parse(request);
    } catch (error) {
      if (isLedgerlineError(error)) throw error;
      throw new LedgerlineError('LL_INVALID_INPUT', `the webhook body is not what ${pluginId} sends: ${inPlugin(pluginId, 'webhooks.parse', error).message}`, {
        cause: error,
      });
    }
    const intake = await recordHints(options.sql, pluginId, hints);
    const queue = options.queue();
    if (queue) {
      for (const touched of intake.installations) {
        for (const stream of touched.streams) {
          await queue.enqueue({ tenantId: touched.tenantId, installationId: touched.installationId, stream, mode: 'hints' });
        }
      }
    }
    return intake;
  };
}
