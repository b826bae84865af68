export * from './reply-decoder';
export * from './reply-relay';
