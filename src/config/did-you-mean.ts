/**
 * The known name closest to `unknown`, when it is close enough to be a likely typo (edit distance
 * at most a third of the longer name, and at least 2), compared case-insensitively.
 *
 * @example
 * didYouMean('timout', ['timeoutMs', 'topic']); // 'timeoutMs'
 * didYouMean('colour', ['timeoutMs']);          // undefined
 */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of known) {
    const distance = editDistance(unknown.toLowerCase(), name.toLowerCase());
    const allowed = Math.max(2, Math.ceil(Math.max(unknown.length, name.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time (field names are short). */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
