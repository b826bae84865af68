/**
 * Heap snapshots before and after something, compared by constructor: what was added, per unit.
 * Used by the parked-request memory tools in this folder.
 */
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

/** Self size and count per constructor (type:name) in a heap snapshot file. */
function byConstructor(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const types = snap.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] as number] as string;
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + nameAt] as number] : '';
    const key = `${type}${name ? `:${name}` : ''}`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += snap.nodes[i + sizeAt] as number;
    out.set(key, entry);
  }
  return out;
}

/** One "what grew" line: node type (and constructor name), count and self bytes per unit. */
export interface HeapGrowth {
  what: string;
  perUnit: number;
  bytesPerUnit: number;
}

export class HeapDiff {
  private constructor(
    private readonly tag: string,
    private readonly first: string,
  ) {}

  /** Take the first snapshot now. */
  static start(tag: string): HeapDiff {
    return new HeapDiff(tag, writeHeapSnapshot(join(tmpdir(), `${tag}-a.heapsnapshot`)));
  }

  /** Take the second snapshot and return the largest growths, divided by `units`. */
  end(units: number, top = 30): HeapGrowth[] {
    const second = writeHeapSnapshot(join(tmpdir(), `${this.tag}-b.heapsnapshot`));
    const a = byConstructor(this.first);
    const b = byConstructor(second);
    rmSync(this.first);
    rmSync(second);
    return [...b]
      .map(([key, v]) => ({
        key,
        count: v.count - (a.get(key)?.count ?? 0),
        bytes: v.bytes - (a.get(key)?.bytes ?? 0),
      }))
      .filter((d) => d.bytes > 0)
      .sort((x, y) => y.bytes - x.bytes)
      .slice(0, top)
      .map((d) => ({ what: d.key, perUnit: +(d.count / units).toFixed(2), bytesPerUnit: Math.round(d.bytes / units) }));
  }
}
