/** The Zendesk Support plugin: OAuth install, incremental-export streams, signed event webhooks, the sidebar and the sandbox. */
import { defineConnector } from '../../core/contract/index.ts';
import { zendeskAuth } from './auth.ts';
import { classifyZendeskError } from './errors.ts';
import { zendeskPanel } from './panel.ts';
import { zendeskRatePolicyFor } from './rate-policy.ts';
import { zendeskExportsPerMinute } from './settings.ts';
import { zendeskStreams } from './streams.ts';
import { zendeskWebhooks } from './webhooks.ts';

export default defineConnector({
  id: 'zendesk',
  displayName: 'Zendesk',
  auth: zendeskAuth,
  // The plan's limit is left at its smallest (Team, 200/min): the exports' own 10 (or 30) per minute set the pace.
  rate: zendeskRatePolicyFor({ exportsPerMinute: zendeskExportsPerMinute(process.env) }),
  streams: zendeskStreams,
  webhooks: zendeskWebhooks,
  panel: zendeskPanel,
  classifyError: classifyZendeskError,
  sandbox: () => import('./emulator/server.ts'),
});
