export * from '../errors/responder-error';
export * from './request-context';
export * from './responder-options';
export * from './decode-request';
export * from './encode-reply';
export * from './error-reply';
export * from './create-responder';
export * from './send-parts';
