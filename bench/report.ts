export type Verdict = 'PASS' | 'FAIL' | 'info' | 'NOISY';

export interface ReportRow {
  readonly section: string;
  readonly measure: string;
  readonly result: string;
  readonly target: string;
  readonly verdict: Verdict;
}

export const verdict = (passed: boolean): Verdict => (passed ? 'PASS' : 'FAIL');

/** A plain fixed-width table. */
export function formatTable(rows: readonly ReportRow[]): string {
  const header = { section: '#', measure: 'Measure', result: 'Result', target: 'Target', verdict: '' };
  const columns = ['section', 'measure', 'result', 'target', 'verdict'] as const;
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: Record<(typeof columns)[number], string>) =>
    columns.map((column, index) => row[column].padEnd(widths[index] as number)).join('  ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}
