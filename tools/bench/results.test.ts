import { describe, expect, it } from 'vitest';
import { SCENARIOS, parseWrk, wrkMilliseconds } from './load.ts';
import { median, table, targetLines, type Measured } from './results.ts';

// What wrk 4.1.0 printed here for `wrk -t2 -c10 -d1s --latency` against the upper bound.
const WRK_OUTPUT = `Running 1s test @ http://127.0.0.1:18284/
  2 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   162.01us  360.87us   5.22ms   95.73%
    Req/Sec    43.57k    13.05k   90.85k    85.71%
  Latency Distribution
     50%   84.00us
     75%  127.00us
     90%  213.00us
     99%    2.10ms
  90843 requests in 1.10s, 6.76MB read
  Socket errors: connect 0, read 12, write 1, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:  82589.35
Transfer/sec:      6.14MB
`;

describe('the benchmark', () => {
  it.each([
    ['84.00us', 0.084],
    ['2.10ms', 2.1],
    ['1.50s', 1500],
  ])("reads wrk's duration %s as %f ms", (text, ms) => {
    expect(wrkMilliseconds(text)).toBeCloseTo(ms, 6);
  });

  it("reads requests/s, p50 and p99 from wrk's report, and counts all but read errors", () => {
    expect(parseWrk(WRK_OUTPUT)).toEqual({ requestsPerSecond: 82589.35, requests: 90843, p50: 0.084, p99: 2.1, errors: 6 });
  });

  it('does not report a p99 that wrk printed below the p50 (its histogram lost the tail)', () => {
    const lost = WRK_OUTPUT.replace('99%    2.10ms', '99%    0.00us');
    expect(parseWrk(lost).p99).toBeNaN();
  });

  it('takes the median of an odd and an even number of rounds, leaving out what was not measured', () => {
    expect([median([3, 1, 2]), median([4, 1, 3, 2]), median([Number.NaN, 5]), median([Number.NaN])]).toEqual([2, 2.5, 5, Number.NaN]);
  });

  it('prints ratios to node:http and the upper bound, and says which targets were met', () => {
    const row = (scenario: number, server: Measured['server'], rps: number): Measured => {
      const result = { requestsPerSecond: rps, requests: rps * 3, p50: 1, p99: 2, errors: 0, cpuMicroseconds: 1e6 / rps };
      return { scenario: SCENARIOS[scenario]!, server, rounds: [result], median: result };
    };
    const results = [0, 1, 2].flatMap((i) => [row(i, 'course', [90, 15, 600][i]!), row(i, 'node:http', [60, 10, 100][i]!), row(i, 'upper bound', [100, 20, 1000][i]!)]);
    expect(table(results)).toMatch(/keep-alive +course +90 +1\.00 +2\.00 +11111\.1 +1\.50x +90% +0/);
    const { lines, met } = targetLines(results);
    expect(met).toBe(4);
    expect(lines[0]).toBe("  ✓ keep-alive: the course's server does 1.50x node:http (target: at least 1.4x)");
    const slowRows = results.map((entry) => (entry.server === 'course' ? { ...entry, median: { ...entry.median, requestsPerSecond: 1, cpuMicroseconds: 1e6 } } : entry));
    const slow = targetLines(slowRows);
    expect(slow.met).toBe(0);
    // The new-connection target asks 1.5x node:http, and the upper bound does 20 / 10 = 2x: in reach.
    expect(slow.lines[2]).toMatch(/^  ✗ new connection: .*\n      why: [\s\S]*appendix/);
    // A target that allows less CPU a request than even the upper bound spends is out of reach.
    const costly = targetLines(slowRows.map((entry) => (entry.server === 'upper bound' ? { ...entry, median: { ...entry.median, cpuMicroseconds: 20_000 } } : entry)));
    expect(costly.lines[0]).toContain('spends 20000.0: by CPU time alone, already more than the target allows.');
    // Where the CPU time per request was read, the reason says how much the target allows.
    expect(slow.lines[0]).toBe(
      [
        "  ✗ keep-alive: the course's server does 0.02x node:http (target: at least 1.4x)",
        '      why: it spends 1000000.0 µs of CPU per request; the target allows 11904.8. The upper bound, which parses nothing,',
        "      spends 10000.0: that leaves 1904.8 µs for all of HTTP, where the course's server takes 990000.0.",
        '      chapters/appendix-benchmarking.md shows where the time goes, and how to profile it',
      ].join('\n'),
    );
    const unmeasured = targetLines(results.map((entry) => ({ ...entry, median: { ...entry.median, requestsPerSecond: entry.server === 'course' ? 1 : entry.median.requestsPerSecond, cpuMicroseconds: Number.NaN } })));
    expect(unmeasured.lines[0]).toMatch(/\n      why: chapters\/appendix-benchmarking\.md shows/);
    // With the upper bound at 1.2x node:http, no server can reach 1.5x: the bench says so.
    const capped = results.map((entry) => (entry.server === 'upper bound' && entry.scenario.name === 'new connection' ? { ...entry, median: { ...entry.median, requestsPerSecond: 12 } } : entry));
    expect(targetLines(capped.map((entry) => (entry.server === 'course' ? { ...entry, median: { ...entry.median, requestsPerSecond: 1 } } : entry))).lines[2]).toContain(
      'out of reach here: even the upper bound, which parses nothing, does 1.20x node:http on this machine',
    );
  });
});
