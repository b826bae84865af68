import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { GatewayMetrics } from '../../../src/observability/gateway-metrics';

const ROOT = resolve(__dirname, '../../..');

/** Every metric family a /metrics page can show: names plus histogram series suffixes. */
async function knownSeries(): Promise<Set<string>> {
  const metrics = new GatewayMetrics({ defaultMetrics: false });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(m.name + s);
  }
  return names;
}

/** The replygate metric names an expression refers to. */
function referenced(expr: string): string[] {
  return [...new Set(expr.match(/\breplygate_[a-z0-9_]+/g) ?? [])];
}

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

describe('ops/ dashboards and alert rules', () => {
  it('alerts.yml: every rule has alert, expr, for, labels.severity and annotations over real metrics', async () => {
    const doc = parseYaml(readFileSync(resolve(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')) as {
      groups: { name: string; rules: Rule[] }[];
    };
    const known = await knownSeries();
    expect(doc.groups).to.be.an('array').that.is.not.empty;
    const names = new Set<string>();
    for (const group of doc.groups) {
      expect(group.name).to.be.a('string');
      for (const rule of group.rules) {
        const id = rule.alert ?? JSON.stringify(rule);
        expect(rule.alert, id).to.match(/^[A-Za-z][A-Za-z0-9]*$/);
        expect(names.has(rule.alert!), `duplicate ${id}`).to.equal(false);
        names.add(rule.alert!);
        expect(rule.expr, id).to.be.a('string').that.is.not.empty;
        expect(rule.for, id).to.match(/^\d+[smh]$/);
        expect(rule.labels?.['severity'], id).to.be.oneOf(['page', 'warn', 'info']);
        expect(rule.annotations?.['summary'], id).to.be.a('string').that.is.not.empty;
        expect(rule.annotations?.['description'], id).to.be.a('string').that.is.not.empty;
        const refs = referenced(rule.expr!);
        expect(refs, id).to.not.be.empty;
        for (const ref of refs) expect(known.has(ref), `${id}: unknown metric ${ref}`).to.equal(true);
      }
    }
  });

  it('replygate.json: valid JSON whose panels query only real metrics, covering what SREs watch', async () => {
    const dash = JSON.parse(readFileSync(resolve(ROOT, 'ops/grafana/replygate.json'), 'utf8')) as {
      title: string;
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const known = await knownSeries();
    const used = new Set<string>();
    for (const panel of dash.panels) {
      expect(panel.targets, panel.title).to.not.be.empty;
      for (const t of panel.targets) {
        for (const ref of referenced(t.expr)) {
          expect(known.has(ref), `${panel.title}: unknown metric ${ref}`).to.equal(true);
          used.add(ref);
        }
      }
    }
    for (const needed of [
      'replygate_requests_total',
      'replygate_reply_latency_seconds_bucket',
      'replygate_pending_requests',
      'replygate_pending_requests_limit',
      'replygate_timeouts_total',
      'replygate_late_replies_total',
      'replygate_replies_unread_total',
      'replygate_relay_lag_messages',
    ]) {
      expect(used.has(needed), needed).to.equal(true);
    }
  });
});
