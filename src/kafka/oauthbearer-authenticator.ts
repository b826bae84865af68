import { KafkaJSSASLAuthenticationError, type AuthenticationProviderArgs, type Mechanism } from 'kafkajs';
import type { OauthBearerProvider } from './oidc-token-provider';

/** SASL bytes as kafkajs sends them: an int32 length, then the payload. */
function saslBytes(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32BE(body.length);
  body.copy(out, 4);
  return out;
}

/** The broker's answer as it came (after its length prefix). */
const RAW_RESPONSE = {
  decode: (bytes: Buffer) => bytes.subarray(4),
  parse: (bytes: Buffer) => bytes,
};

/** kafkajs' error type, whose declared constructor takes no message (the JavaScript one does). */
const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;

/**
 * SASL/OAUTHBEARER as RFC 7628 has it, for kafkajs' `authenticationProvider`. kafkajs' own
 * OAUTHBEARER ignores what the broker answers: a refused token (wrong audience, issuer or key, or
 * expired) then looks like a successful login and fails later as "Closed connection" or "No brokers
 * in the broker pool". Here a non-empty answer is the broker's error JSON
 * (`{"status":"invalid_token"}`): the exchange is ended as the RFC says (a single 0x01) and the
 * failure reported as a SASL authentication error with the broker's words.
 */
export function oauthBearerMechanism(
  provider: OauthBearerProvider,
): Mechanism & { oauthBearerProvider: OauthBearerProvider } {
  return {
    mechanism: 'oauthbearer',
    /** The token source (kafkajs does not read it here; kept for callers and tests). */
    oauthBearerProvider: provider,
    authenticationProvider: ({ saslAuthenticate }: AuthenticationProviderArgs) => ({
      authenticate: async () => {
        const { value } = await provider();
        const answer = (await saslAuthenticate<Buffer>({
          request: { encode: async () => saslBytes(`n,,\x01auth=Bearer ${value}\x01\x01`) },
          response: RAW_RESPONSE,
        })) as Buffer | undefined;
        if (answer === undefined || answer.length === 0) return;
        let then = '';
        try {
          await saslAuthenticate<Buffer>({
            request: { encode: async () => saslBytes('\x01') },
            response: RAW_RESPONSE,
          });
        } catch (err) {
          then = ` (${(err as { type?: string }).type ?? (err as Error).name})`;
        }
        throw new SaslError(
          `SASL OAUTHBEARER authentication failed: the broker refused the token: ${answer.toString('utf8').slice(0, 300)}${then}`,
        );
      },
    }),
  };
}
