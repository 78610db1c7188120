export * from './connector.ts';
export * from './report.ts';
export * from './manifest.ts';
export * from './plugin-loader.ts';
export * from './rate-headers.ts';
