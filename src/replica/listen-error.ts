import { CONFIG_SOURCES } from '../config/config-sources';
import { StartupError, describeNetworkError } from '../errors/startup-errors';

/**
 * The HTTP server could not listen: name PORT and HOST (variables and flags) and the address,
 * instead of node's bare `listen EADDRINUSE: address already in use 0.0.0.0:8080`.
 */
export function listenError(err: unknown, host: string, port: number): StartupError {
  const code = (err as { code?: unknown }).code;
  // A port in use or refused is PORT's to change; an address not on this host is HOST's.
  const settings =
    code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND'
      ? [CONFIG_SOURCES.host, CONFIG_SOURCES.port]
      : [CONFIG_SOURCES.port, CONFIG_SOURCES.host];
  return new StartupError(settings, `${host}:${port}`, describeNetworkError(err), { cause: err });
}
