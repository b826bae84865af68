/**
 * Whether a client request header name is one only the gateway may set: the `rg-*` protocol
 * headers (the `rg-auth-*` identity among them) and anything `x-replygate-*`. Such headers are
 * never forwarded to services, so a client cannot forge an identity a service would trust.
 *
 * @example
 * isGatewayReservedHeader('RG-Auth-Subject'); // true
 */
export function isGatewayReservedHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return lower.startsWith('rg-') || lower.startsWith('x-replygate-');
}

/** Why a reserved header was refused, for configuration messages. */
export const RESERVED_HEADER_MESSAGE =
  'rg-* and x-replygate-* headers are set by the gateway only and cannot be forwarded';
