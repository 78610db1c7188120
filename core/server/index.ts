/**
 * The HTTP server: console, /api/v1, health, metrics, and the panel mount point. Everything it
 * needs from the rest of Ledgerline comes in through ServerDeps.
 */
export { createApp } from './create-app.ts';
export type { AppOptions } from './create-app.ts';
export { startServer } from './start-server.ts';
export type { ListenOptions, RunningServer } from './start-server.ts';
export { panelSecurityHeaders, frameAncestorList } from './security-headers.ts';
export { frameSessionKeyFrom } from './frame-session.ts';
export { apiPrefix } from './api-routes.ts';
export { reportApiRoutes } from './report-routes.ts';
export { reportConsoleRoutes } from './report-console-routes.ts';
export { reportLinkRoutes } from './report-link-routes.ts';
export { storeBackedDeps } from './store-backed-deps.ts';
export type { StoreBackedDepsOptions } from './store-backed-deps.ts';
export { InMemoryInstallations, InMemoryTenants, ScriptedReadiness } from './in-memory-directories.ts';
export type {
  FrameHost,
  FrameLocation,
  InstallationDirectory,
  InstallationStatus,
  InstallationSummary,
  InstallationSyncSummary,
  PluginSettingState,
  PluginSummary,
  ReadinessProbe,
  ServerConfig,
  ServerDeps,
  TenantDirectory,
  TenantSummary,
  ZendeskHarness,
} from './server-deps.ts';
