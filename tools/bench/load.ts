// The load generators of the benchmark, each run as a process of its own so that it does
// not share an event loop with the server it measures: wrk where it is installed (written
// in C, it costs the machine the least), autocannon (a dev dependency) otherwise.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

export interface Scenario {
  name: string;
  /** What it measures, in a few words, for the table. */
  what: string;
  connections: number;
  /** Requests written before the first answer is read, per connection. */
  pipelining: number;
  /** A new connection for every request (`Connection: close`). */
  close: boolean;
}

export const SCENARIOS: Scenario[] = [
  { name: 'keep-alive', what: '50 connections, kept alive', connections: 50, pipelining: 1, close: false },
  { name: 'new connection', what: '50 clients, a new connection per request', connections: 50, pipelining: 1, close: true },
  { name: 'pipelined', what: '50 connections, 16 requests in flight on each', connections: 50, pipelining: 16, close: false },
];

export interface LoadResult {
  requestsPerSecond: number;
  /** Requests answered in the run (in a summary, the median over the rounds). */
  requests: number;
  /** Latency percentiles, in milliseconds. */
  p50: number;
  p99: number;
  /** Socket errors, timeouts and answers that were not 2xx. */
  errors: number;
}

export interface LoadGenerator {
  name: string;
  version: string;
  run(url: string, scenario: Scenario, seconds: number): Promise<LoadResult>;
}

function collect(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** wrk's duration like `1.23ms`, `850.00us` or `2.01s`, in milliseconds. */
export function wrkMilliseconds(text: string): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text.trim());
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return { us: value / 1000, ms: value, s: value * 1000, m: value * 60_000 }[match[2] as 'us' | 'ms' | 's' | 'm'];
}

/** The numbers in wrk's `--latency` report. */
export function parseWrk(output: string): LoadResult {
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const total = /(\d+) requests in/.exec(output);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output);
  const p99 = /^\s+99%\s+(\S+)/m.exec(output);
  if (!rate || !total || !p50 || !p99) throw new Error(`wrk printed no result:\n${output}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(output);
  // A server that closes after each answer (the new-connection scenario) makes wrk count a
  // "read" error on each close; only connect, write and timeout errors are failures there.
  const errors = socketErrors ? Number(socketErrors[1]) + Number(socketErrors[3]) + Number(socketErrors[4]) : 0;
  const median = wrkMilliseconds(p50[1]!);
  // With a pipelining script wrk 4.1 can print `99%    0.00us` under a non-zero median: its
  // histogram lost the tail. A p99 below the p50 is no measurement, so it is not reported.
  const tail = wrkMilliseconds(p99[1]!);
  return {
    requestsPerSecond: Number(rate[1]),
    requests: Number(total[1]),
    p50: median,
    p99: tail < median ? Number.NaN : tail,
    errors: errors + Number(non2xx?.[1] ?? 0),
  };
}

export function findWrk(): LoadGenerator | undefined {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  const version = /wrk (\S+)/.exec(`${probe.stdout}${probe.stderr}`)?.[1] ?? 'unknown';
  return {
    name: 'wrk',
    version,
    async run(url, scenario, seconds) {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'course-bench-'));
      try {
        const args = ['-t', String(Math.min(2, os.availableParallelism())), '-c', String(scenario.connections), '-d', `${seconds}s`, '--latency'];
        if (scenario.close) args.push('-H', 'Connection: close');
        if (scenario.pipelining > 1) {
          // wrk pipelines through a script that sends N requests as one write.
          const script = path.join(dir, 'pipeline.lua');
          writeFileSync(
            script,
            `init = function(args)\n  local r = {}\n  for i = 1, ${scenario.pipelining} do r[i] = wrk.format(nil, "/") end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`,
          );
          args.push('-s', script);
        }
        const { stdout, stderr } = await collect('wrk', [...args, url]);
        return parseWrk(stdout + stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

interface AutocannonJson {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  errors: number;
  timeouts: number;
  non2xx: number;
}

export function autocannon(): LoadGenerator {
  const require = createRequire(import.meta.url);
  const packageFile = require.resolve('autocannon/package.json');
  const cli = path.join(path.dirname(packageFile), 'autocannon.js');
  const version = (require(packageFile) as { version: string }).version;
  return {
    name: 'autocannon',
    version,
    async run(url, scenario, seconds) {
      const args = [cli, '--json', '-c', String(scenario.connections), '-d', String(seconds), '-p', String(scenario.pipelining)];
      // The server closes after each answer, and autocannon opens a new connection for the next.
      if (scenario.close) args.push('-H', 'Connection=close');
      const { stdout, stderr, code } = await collect(process.execPath, [...args, url]);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      let result: AutocannonJson;
      try {
        result = JSON.parse(line) as AutocannonJson;
      } catch {
        throw new Error(`autocannon (exit code ${code}) printed no result:\n${stdout}\n${stderr}`);
      }
      return {
        requestsPerSecond: result.requests.average,
        requests: result.requests.total,
        p50: result.latency.p50,
        p99: result.latency.p99,
        errors: result.errors + result.timeouts + result.non2xx,
      };
    },
  };
}
