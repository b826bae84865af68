export * from './callback-hook-store';
export * from './callback-payload';
export * from './callback-registrar';
export * from './webhook-job';
export * from './webhook-queue-names';
export * from './webhook-sender';
export * from './webhook-service';
export * from './webhook-signature';
