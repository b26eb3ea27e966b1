// The benchmark's numbers, from runs to what is printed: medians, ratios, the table and the
// targets of issue 8. Pure functions, tested without running a load.

import type { LoadResult, Scenario } from './load.ts';

export interface Target {
  scenario: string;
  /** The server compared with the course's: the ratio is course / this. */
  against: 'node:http' | 'upper bound';
  atLeast: number;
}

/** What issue 8 asks of the course's server, as ratios in one run. */
/** The lesson that explains these numbers, and the profiling behind them. */
export const BENCHMARKING_LESSON = 'chapters/appendix-benchmarking.md';

export const TARGETS: Target[] = [
  { scenario: 'keep-alive', against: 'node:http', atLeast: 1.4 },
  { scenario: 'keep-alive', against: 'upper bound', atLeast: 0.85 },
  { scenario: 'new connection', against: 'node:http', atLeast: 1.5 },
  { scenario: 'pipelined', against: 'node:http', atLeast: 6 },
];

/** The median of the values that were measured (NaN stands for "not measured"). */
export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export type ServerName = 'course' | 'node:http' | 'upper bound';

/** What the load generator saw in one run, and what the server spent on it. */
export interface RunResult extends LoadResult {
  /**
   * The server's CPU time (user and system, all its threads) per request answered, in
   * microseconds; NaN where it cannot be read (only Linux has /proc).
   */
  cpuMicroseconds: number;
}

export interface Measured {
  scenario: Scenario;
  server: ServerName;
  rounds: RunResult[];
  median: RunResult;
}

export function summarize(rounds: RunResult[]): RunResult {
  return {
    requestsPerSecond: median(rounds.map((round) => round.requestsPerSecond)),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    requests: median(rounds.map((round) => round.requests)),
    errors: rounds.reduce((sum, round) => sum + round.errors, 0),
    cpuMicroseconds: median(rounds.map((round) => round.cpuMicroseconds)),
  };
}

/** One server's medians in one scenario, if it was measured there. */
function medianOf(results: Measured[], scenario: string, server: string): RunResult | undefined {
  return results.find((entry) => entry.scenario.name === scenario && entry.server === server)?.median;
}

/** One server's median CPU time per request, in microseconds (NaN if not measured). */
function cpu(results: Measured[], scenario: string, server: string): number {
  return medianOf(results, scenario, server)?.cpuMicroseconds ?? Number.NaN;
}

/** One server's requests/s over another's, in one scenario: the course's, unless told otherwise. */
export function ratio(results: Measured[], scenario: string, against: string, server = 'course'): number {
  const rate = (name: string) => medianOf(results, scenario, name)?.requestsPerSecond ?? Number.NaN;
  return rate(server) / rate(against);
}

function milliseconds(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(2);
}

export function table(results: Measured[]): string {
  const header = ['scenario', 'server', 'requests/s', 'p50 ms', 'p99 ms', 'CPU µs/request', 'vs node:http', 'vs upper bound', 'errors'];
  const rows = results.map((entry) => {
    return [
      entry.scenario.name,
      entry.server,
      Math.round(entry.median.requestsPerSecond).toLocaleString('en-US'),
      milliseconds(entry.median.p50),
      milliseconds(entry.median.p99),
      Number.isNaN(entry.median.cpuMicroseconds) ? 'n/a' : entry.median.cpuMicroseconds.toFixed(1),
      `${ratio(results, entry.scenario.name, 'node:http', entry.server).toFixed(2)}x`,
      `${Math.round(ratio(results, entry.scenario.name, 'upper bound', entry.server) * 100)}%`,
      String(entry.median.errors),
    ];
  });
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/** Each target with the ratio this run reached, and whether that meets it. */
export function evaluateTargets(results: Measured[]): (Target & { ratio: number; met: boolean })[] {
  return TARGETS.map((target) => {
    const value = ratio(results, target.scenario, target.against);
    return { ...target, ratio: value, met: value >= target.atLeast };
  });
}

export function targetLines(results: Measured[]): { lines: string[]; met: number } {
  const evaluated = evaluateTargets(results);
  const lines = evaluated.map(({ ratio: value, met: ok, ...target }) => {
    const shown = target.against === 'upper bound' ? `${Math.round(value * 100)}% of` : `${value.toFixed(2)}x`;
    const wanted = target.against === 'upper bound' ? `${Math.round(target.atLeast * 100)}%` : `${target.atLeast}x`;
    const line = `  ${ok ? '✓' : '✗'} ${target.scenario}: the course's server does ${shown} ${target.against} (target: at least ${wanted})`;
    if (ok) return line;
    // A target above what a server that parses nothing reaches cannot be met on this machine.
    const ceiling = target.against === 'node:http' ? ratio(results, target.scenario, 'node:http', 'upper bound') : Number.NaN;
    if (ceiling < target.atLeast) {
      return `${line}\n      out of reach here: even the upper bound, which parses nothing, does ${ceiling.toFixed(2)}x node:http on this machine`;
    }
    // A server busy on one core answers about 1 / (its CPU time per request) requests a second,
    // so a ratio of requests/s is the inverse ratio of CPU time per request.
    const mine = cpu(results, target.scenario, 'course');
    const allowed = cpu(results, target.scenario, target.against) / target.atLeast;
    const floor = cpu(results, target.scenario, 'upper bound');
    if ([mine, allowed, floor].some(Number.isNaN)) return `${line}\n      why: ${BENCHMARKING_LESSON} shows where the time goes, and how to profile it`;
    const us = (value: number) => value.toFixed(1);
    return [
      line,
      `      why: it spends ${us(mine)} µs of CPU per request; the target allows ${us(allowed)}. The upper bound, which parses nothing,`,
      allowed > floor
        ? `      spends ${us(floor)}: that leaves ${us(allowed - floor)} µs for all of HTTP, where the course's server takes ${us(mine - floor)}.`
        : `      spends ${us(floor)}: by CPU time alone, already more than the target allows.`,
      `      ${BENCHMARKING_LESSON} shows where the time goes, and how to profile it`,
    ].join('\n');
  });
  return { lines, met: evaluated.filter((target) => target.met).length };
}
