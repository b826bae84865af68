/** Who is calling, as established by an authentication stage. */
export interface CallerIdentity {
  /** Subject: the JWT `sub`, or the API key's owner. */
  subject: string;
  /** Id of the API key or JWT key that authenticated the caller, when there is one. */
  keyId?: string;
  /** Granted scopes. */
  scopes: readonly string[];
  /** How the caller authenticated. */
  method: 'apiKey' | 'jwt';
  /**
   * Stable, non-secret fingerprint of the credential (e.g. a hash of the API key id or of
   * `iss`+`sub`), used to bind stored replies to their caller.
   */
  principal: string;
}
