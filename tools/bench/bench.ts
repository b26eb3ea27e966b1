// `npm run bench`: the course's final server against node:http and against an upper bound
// (a server that parses nothing), driven by a load generator in a process of its own.
// Servers and scenarios are interleaved and repeated, so that a noisy machine's drift hits
// all of them alike; the table shows medians and ratios, which travel between machines
// better than raw numbers do.

import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { listChapters } from '../chapters.ts';
import { runTs } from '../spawn.ts';
import { runMemoryBench } from './memory.ts';
import { runParserBench } from './parser.ts';
import { SCENARIOS, autocannon, findWrk, type LoadGenerator } from './load.ts';
import { TARGETS, evaluateTargets, summarize, table, targetLines, type Measured, type RunResult, type ServerName } from './results.ts';

interface ServerSpec {
  name: ServerName;
  file: string;
}

interface Running {
  spec: ServerSpec;
  url: string;
  child: ChildProcess;
}

async function startServer(spec: ServerSpec): Promise<Running> {
  const running = runTs(spec.file, [], { HOST: '127.0.0.1', PORT: '0', POOL_SIZE: '1' });
  const match = await running.waitFor(/listening on (http:\/\/[^\s]+)/, 20_000);
  return { spec, url: `${new URL(match[1]!).origin}/`, child: running.child };
}

/** Clock ticks a second, the unit of /proc/PID/stat's times: 100 on Linux's usual builds. */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

/**
 * The CPU time a process has used so far, user and system, all threads, in seconds; NaN where
 * there is no /proc (not Linux). Fields 14 and 15 of /proc/PID/stat count it in clock ticks;
 * the name before them, in parentheses, may itself hold spaces, so the count starts after
 * its ')'.
 */
function cpuSeconds(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim().split(' ');
    // fields[0] is field 3 (the state), so field N is fields[N - 3].
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return Number.NaN;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      seconds: { type: 'string' },
      rounds: { type: 'string' },
      autocannon: { type: 'boolean' },
      mine: { type: 'boolean' },
      memory: { type: 'boolean' },
      parser: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(`npm run bench [-- --seconds S] [--rounds N] [--json] [--autocannon] [--mine]
  Measures the last chapter's server (the reference, or yours with --mine) against node:http
  and against a server that parses nothing, in three scenarios: keep-alive, a new
  connection per request, and pipelining. Each run lasts S seconds (default 3); servers and
  scenarios are interleaved, N rounds (default 3), and the table shows medians and, on
  Linux, each server's CPU time per request (what a missed target's reason is given in).
    --json         print the results as JSON, for tools
    --autocannon   use autocannon even where wrk is installed
    --memory       instead: resident memory with 1000 idle keep-alive connections, and its
                   growth while 1 GiB is uploaded to POST /sha256 (target: under 64 MiB)
    --parser       instead: the parser's cost per byte as heads and bodies grow (it must stay
                   flat: no quadratic scanning or copying)`);
    return 0;
  }
  const last = listChapters().at(-1)!;
  const folder = values.mine ? last.chapterDir : last.solutionDir;
  // With --json, stdout is for the JSON alone: progress goes to stderr.
  const log = values.json ? (text: string) => process.stderr.write(`${text}\n`) : (text: string) => console.log(text);
  if (values.memory) {
    const report = await runMemoryBench({ courseFile: path.posix.join(folder, 'server.ts'), log });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    return 'error' in report.upload || !report.upload.digestMatches ? 1 : 0;
  }
  if (values.parser) {
    const report = await runParserBench({ protocolFile: path.posix.join(folder, 'protocol.ts'), log });
    if (values.json) console.log(JSON.stringify(report, null, 2));
    return report.flat ? 0 : 1;
  }
  const seconds = Number(values.seconds ?? 3);
  const rounds = Number(values.rounds ?? 3);
  const courseFile = path.posix.join(folder, 'server.ts');
  const servers: ServerSpec[] = [
    { name: 'course', file: courseFile },
    { name: 'node:http', file: 'tools/bench/node-http-server.ts' },
    { name: 'upper bound', file: 'tools/bench/upper-bound-server.ts' },
  ];
  const wrk = values.autocannon ? undefined : findWrk();
  const generator: LoadGenerator = wrk ?? autocannon();
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const machine = `${os.availableParallelism()} cores (${cpu}), ${os.platform()} ${os.arch()}, Node ${process.version}`;
  log(`Machine: ${machine}`);
  log(`Load generator: ${generator.name} ${generator.version}${wrk || values.autocannon ? '' : ' (wrk is not installed; it costs the machine less, so the ratios are better measured with it)'}`);
  log(`Course server: ${courseFile}`);
  log(`${SCENARIOS.length} scenarios × ${servers.length} servers × ${rounds} rounds × ${seconds} s ≈ ${Math.ceil((SCENARIOS.length * servers.length * rounds * (seconds + 0.5)) / 60)} min\n`);

  const running: Running[] = [];
  try {
    for (const spec of servers) running.push(await startServer(spec));
    // Warm up: let the JIT compile the hot paths before anything counts.
    for (const server of running) await generator.run(server.url, SCENARIOS[0]!, 1);
    const collected = new Map<string, RunResult[]>();
    for (let round = 0; round < rounds; round++) {
      for (const scenario of SCENARIOS) {
        // A different server goes first each round, so none always runs on a cooler machine.
        const order = running.map((_, i) => running[(i + round) % running.length]!);
        for (const server of order) {
          const before = cpuSeconds(server.child.pid);
          const answered = await generator.run(server.url, scenario, seconds);
          // Whatever the server did in the run, over the requests it answered: the cost of one.
          const result: RunResult = { ...answered, cpuMicroseconds: ((cpuSeconds(server.child.pid) - before) / answered.requests) * 1e6 };
          const key = `${scenario.name}\0${server.spec.name}`;
          collected.set(key, [...(collected.get(key) ?? []), result]);
          log(`  round ${round + 1}: ${scenario.name.padEnd(14)} ${server.spec.name.padEnd(11)} ${Math.round(result.requestsPerSecond).toLocaleString('en-US').padStart(9)} requests/s`);
        }
      }
    }
    const results: Measured[] = SCENARIOS.flatMap((scenario) =>
      servers.map((spec) => {
        const all = collected.get(`${scenario.name}\0${spec.name}`)!;
        return { scenario, server: spec.name, rounds: all, median: summarize(all) };
      }),
    );
    const targets = targetLines(results);
    if (values.json) {
      console.log(
        JSON.stringify(
          {
            machine: { cores: os.availableParallelism(), cpu, platform: os.platform(), arch: os.arch(), node: process.version },
            generator: { name: generator.name, version: generator.version },
            course: courseFile,
            seconds,
            rounds,
            results: results.map((entry) => ({ scenario: entry.scenario.name, server: entry.server, median: entry.median, rounds: entry.rounds })),
            targets: evaluateTargets(results),
          },
          null,
          2,
        ),
      );
    } else {
      console.log('');
      console.log(table(results));
      console.log('');
      console.log(`Targets met: ${targets.met} of ${TARGETS.length}`);
      for (const line of targets.lines) console.log(line);
    }
    return 0;
  } finally {
    for (const server of running) server.child.kill('SIGKILL');
  }
}

process.exitCode = await main(process.argv.slice(2));
