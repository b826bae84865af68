import { ReplygateError } from './replygate-error';

/** Wrap anything thrown into a {@link ReplygateError} (unknown errors become RG_INTERNAL). */
export function toReplygateError(err: unknown): ReplygateError {
  if (err instanceof ReplygateError) return err;
  return new ReplygateError('RG_INTERNAL', 'Internal gateway error', { cause: err });
}
