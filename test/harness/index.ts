// Everything a chapter's test file needs, from one import.
export * from './bytes.ts';
export * from './http-check.ts';
export * from './implementation.ts';
export * from './report.ts';
export * from './scripted-server.ts';
export * from './wire.ts';
export * from './random.ts';
export * from './chunked.ts';
