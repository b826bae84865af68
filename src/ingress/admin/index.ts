export * from './admin-router';
export * from './admin-settings';
export * from './openapi-document';
export * from './openapi-router';
export * from './problem-responses';
export * from './replies-paths';
