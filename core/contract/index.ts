export * from './connector.ts';
export * from './report.ts';
