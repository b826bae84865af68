import type { ScenarioResult } from './scenarios';

const fmtErrors = (e: Record<string, number>): string =>
  Object.keys(e).length === 0
    ? '0'
    : Object.entries(e)
        .sort()
        .map(([k, v]) => `${v} × ${k}`)
        .join(', ');

const pair = (p: { originDown: number; originUp: number }): string =>
  p.originDown + p.originUp === 0 ? '0' : `${p.originUp} (+${p.originDown} origin down)`;

/** The table printed by the harness and written into docs/RELIABILITY.md. */
export function markdownTable(results: readonly ScenarioResult[]): string {
  const head =
    '| # | scenario | load | duration | sent | answered ok | wrong reply | errors by status | dropped connections | never answered | LB retries | duplicates absorbed | late replies | invariants |\n' +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const rows = results.map((r) => {
    if (r.skipped)
      return `| ${r.id} | ${r.title} | — | — | — | — | — | — | — | — | — | — | — | skipped: ${r.skipped} |`;
    const failed = r.checks.filter((c) => !c.ok);
    const inv =
      failed.length === 0 ? `all ${r.checks.length} hold` : `**FAILED**: ${failed.map((c) => c.name).join('; ')}`;
    return (
      `| ${r.id} | ${r.title} | ${r.load.ratePerSecond} req/s, ${r.load.https} http / ${r.load.relays} relay processes, route timeout ${r.load.routeTimeoutMs} ms | ` +
      `${r.durationS} s | ${r.sent} | ${r.ok} | ${r.wrong} | ${fmtErrors(r.errors)} | ${pair(r.dropped)} | ${pair(r.neverAnswered)} | ${r.retried} | ` +
      `${r.duplicatesAbsorbed} | ${r.lateReplies} | ${inv} |`
    );
  });
  return [head, ...rows].join('\n');
}

/** A plain-text summary for the terminal. */
export function consoleSummary(results: readonly ScenarioResult[]): string {
  return results
    .map((r) => {
      if (r.skipped) return `#${r.id} ${r.title}: skipped (${r.skipped})`;
      const lines = [
        `#${r.id} ${r.title} [${r.mode}]`,
        `   ${r.durationS}s @ ${r.load.ratePerSecond}/s: sent ${r.sent}, ok ${r.ok}, wrong ${r.wrong}, errors {${fmtErrors(r.errors)}}, ` +
          `dropped ${pair(r.dropped)} ${JSON.stringify(r.droppedBy)}, never ${pair(r.neverAnswered)}, retried ${r.retried}, shed ${r.shed}, dup ${r.duplicatesAbsorbed}, late ${r.lateReplies}`,
        `   facts ${JSON.stringify(r.facts)}`,
        ...r.checks.map((c) => `   ${c.ok ? 'ok  ' : 'FAIL'} ${c.name} — ${c.detail}`),
      ];
      return lines.join('\n');
    })
    .join('\n');
}
