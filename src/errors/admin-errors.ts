import { ReplygateError, type ReplygateErrorOptions } from './replygate-error';

/** An admin endpoint was called without the admin token, or with another (401). */
export class AdminUnauthorizedError extends ReplygateError {
  constructor(options: ReplygateErrorOptions = {}) {
    super('RG_UNAUTHENTICATED', 'Admin endpoints need "Authorization: Bearer <REPLYGATE_ADMIN_TOKEN>"', options);
  }
}

/** A routes reload was refused: the file is unreadable or invalid; the current routes stay (422). */
export class RoutesInvalidError extends ReplygateError {
  constructor(
    readonly issues: readonly string[],
    options: ReplygateErrorOptions = {},
  ) {
    super('RG_ROUTES_INVALID', `Routes file refused; the current routes stay:\n  ${issues.join('\n  ')}`, {
      ...options,
      details: { issues },
    });
  }
}
