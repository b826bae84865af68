import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { loadRoutesFile, type RouteDefinition } from '../config/routes-file';
import { ConfigError } from '../errors/startup-errors';
import { RouteMatcher } from './route-matcher';
import type { Logger } from '../observability/logger';

/** The outcome of one {@link RouteTable.reload}. */
export type RouteReloadResult =
  { ok: true; file: string; routes: number } | { ok: false; file: string | undefined; issues: readonly string[] };

/** Settings of a {@link RouteTable}. */
export interface RouteTableOptions {
  /** The routes file (REPLYGATE_ROUTES); without it the table cannot reload. */
  file?: string;
  /** Gateway-level defaults the routes file resolves against. */
  defaults: Parameters<typeof loadRoutesFile>[1];
  log: Logger;
  /** Told of every reload, for metrics. */
  onReload?: (result: RouteReloadResult) => void;
}

/**
 * The replica's current routes and their matcher, swappable at run time. A reload parses the whole
 * file first and swaps one reference only if it is valid, so a request sees either the old table
 * or the new one, never a mix; requests already routed keep the route they matched (in-flight
 * requests are not touched). An invalid file leaves the current table in place.
 *
 * @example
 * const table = new RouteTable(routes, { file: config.routesFile, defaults: config, log });
 * process.on('SIGHUP', () => table.reload());
 */
export class RouteTable {
  private current: { routes: readonly RouteDefinition[]; matcher: RouteMatcher };
  private watching: { file: string; listener: (curr: Stats, prev: Stats) => void } | undefined;

  constructor(
    routes: readonly RouteDefinition[],
    private readonly options: RouteTableOptions,
  ) {
    this.current = { routes, matcher: new RouteMatcher(routes) };
  }

  get routes(): readonly RouteDefinition[] {
    return this.current.routes;
  }

  get matcher(): RouteMatcher {
    return this.current.matcher;
  }

  /** Re-read the routes file; swap to it if valid, else keep the current routes and log why. */
  reload(): RouteReloadResult {
    const { file, log } = this.options;
    let result: RouteReloadResult;
    if (file === undefined) {
      result = { ok: false, file, issues: ['no routes file to reload (REPLYGATE_ROUTES / --routes)'] };
    } else {
      try {
        const routes = loadRoutesFile(file, this.options.defaults);
        this.current = { routes, matcher: new RouteMatcher(routes) };
        result = { ok: true, file, routes: routes.length };
      } catch (err) {
        const issues = err instanceof ConfigError && err.issues.length > 0 ? err.issues : [(err as Error).message];
        result = { ok: false, file, issues };
      }
    }
    if (result.ok) {
      log.info({ file: result.file, routes: result.routes }, 'routes reloaded');
    } else {
      log.error({ file: result.file, issues: result.issues }, 'routes reload refused; keeping the current routes');
    }
    this.options.onReload?.(result);
    return result;
  }

  /**
   * Reload whenever the file changes (REPLYGATE_ROUTES_WATCH). Polls the file's stat rather than
   * using inotify, so an editor's rename-over and a Kubernetes ConfigMap's symlink swap are seen.
   */
  watch(intervalMs = 1000): void {
    const file = this.options.file;
    if (file === undefined || this.watching !== undefined) return;
    const listener = (curr: Stats, prev: Stats): void => {
      if (curr.mtimeMs === prev.mtimeMs && curr.size === prev.size && curr.ino === prev.ino) return;
      if (curr.nlink === 0 && curr.mtimeMs === 0) return; // deleted: wait for the new file
      this.reload();
    };
    watchFile(file, { interval: intervalMs, persistent: false }, listener);
    this.watching = { file, listener };
  }

  /** Stop watching the file. */
  close(): void {
    if (this.watching === undefined) return;
    unwatchFile(this.watching.file, this.watching.listener);
    this.watching = undefined;
  }
}
