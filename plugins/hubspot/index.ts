/** The HubSpot plugin: OAuth install, CRM streams, signed webhooks, the app card endpoint and the sandbox. */
import { defineConnector } from '../../core/contract/index.ts';
import { hubspotAuth } from './auth.ts';
import { classifyHubspotError } from './errors.ts';
import { hubspotPanel } from './panel.ts';
import { hubspotRatePolicy } from './rate-policy.ts';
import { hubspotStreams } from './streams.ts';
import { hubspotWebhooks } from './webhooks.ts';

export default defineConnector({
  id: 'hubspot',
  displayName: 'HubSpot',
  auth: hubspotAuth,
  rate: hubspotRatePolicy,
  streams: hubspotStreams,
  webhooks: hubspotWebhooks,
  panel: hubspotPanel,
  classifyError: classifyHubspotError,
  sandbox: () => import('./emulator/server.ts'),
});
