/**
 * Doctor findings and how they print.
 *
 * @module
 */
import pc from 'picocolors';

/** One finding. */
export interface Finding {
  /** `skip`: not judged, for want of evidence (e.g. no idle period to judge heartbeats by); it does not fail the run. */
  status: 'pass' | 'warn' | 'fail' | 'skip';
  check: string;
  /** What was measured. */
  evidence: string;
  /** What to change, for warnings and failures. */
  fix?: string;
}

/** "1 warning", "2 warnings". */
export function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The report as lines for a terminal (colours only on a TTY). */
export function formatReport(url: string, findings: readonly Finding[], color: boolean): string {
  const paint = color ? pc : { green: String, yellow: String, red: String, dim: String, bold: String };
  const label = { pass: paint.green('PASS'), warn: paint.yellow('WARN'), fail: paint.red('FAIL'), skip: paint.dim('SKIP') };
  const width = Math.max(...findings.map((finding) => finding.check.length));
  const lines = [paint.bold(`agentwire doctor ${url}`)];
  for (const finding of findings) {
    lines.push(`${label[finding.status]}  ${finding.check.padEnd(width)}  ${finding.evidence}`);
    if (finding.fix && (finding.status === 'warn' || finding.status === 'fail')) lines.push(`      ${' '.repeat(width)}  ${paint.dim(`fix: ${finding.fix}`)}`);
  }
  const count = (status: Finding['status']) => findings.filter((finding) => finding.status === status).length;
  const skipped = count('skip');
  lines.push('', `${count('pass')} passed, ${plural(count('warn'), 'warning')}, ${count('fail')} failed${skipped > 0 ? `, ${skipped} not judged` : ''}`);
  return lines.join('\n');
}
