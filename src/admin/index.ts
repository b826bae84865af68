export * from './admin-router';
export * from './admin-settings';
export * from './route-table';
