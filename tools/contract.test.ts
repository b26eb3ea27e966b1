// The contract every chapter keeps, checked on the real processes: `npx tsx <dir>/server.ts`
// listens on HOST:PORT and says where, the client prints what it received, and SIGINT or
// SIGTERM stop the server cleanly with exit code 0. Starters keep it too.

import { describe, expect, it } from 'vitest';
import { listChapters } from './chapters.ts';
import { runTs } from './spawn.ts';

const chapters = listChapters();
const LISTENING = /^listening on http:\/\/127\.0\.0\.1:(\d+)$/m;
const signalsWork = process.platform !== 'win32';

describe.concurrent.each(chapters.map((chapter) => [chapter.id, chapter] as const))('chapter %s', { timeout: 60_000 }, (_, chapter) => {
  it.for([
    ['solution', 'SIGINT', chapter.solutionDir],
    ['starter', 'SIGTERM', chapter.chapterDir],
  ] as const)('the %s server exits 0 on %s, after listening on PORT and saying where (%s)', async ([, signal, dir], context) => {
    const server = runTs(`${dir}/server.ts`, [], { PORT: '0', HOST: '127.0.0.1' });
    try {
      const [, port] = await server.waitFor(LISTENING);
      expect(Number(port)).toBeGreaterThan(0);
      if (!signalsWork) context.skip('signals are a POSIX feature; Windows has no SIGINT to send');
      server.child.kill(signal);
      const { code, signal: killedBy, stderr } = await server.finished;
      // A starter may say which TODO it fell back from (chapter 07's shutdown()), nothing else.
      const unexpected = stderr.split('\n').filter((line) => line !== '' && !line.includes('TODO('));
      expect({ code, killedBy, stderr: unexpected }).toEqual({ code: 0, killedBy: null, stderr: [] });
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('the solution client prints what the solution server answered', async () => {
    const server = runTs(`${chapter.solutionDir}/server.ts`, [], { PORT: '0' });
    try {
      const [, port] = await server.waitFor(LISTENING);
      const client = await runTs(`${chapter.solutionDir}/client.ts`, [`http://127.0.0.1:${port}/`]).finished;
      expect(client.code, client.stderr).toBe(0);
      expect(client.stdout).toContain('Hello, World!');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('the starter client runs: it answers, or says what is left to write, never with a stack trace', async () => {
    // Against the reference server, so the client gets as far as its first TODO, if GET /
    // reaches one (a chapter whose client TODOs are about chunked answers need not).
    const server = runTs(`${chapter.solutionDir}/server.ts`, [], { PORT: '0' });
    try {
      const [, port] = await server.waitFor(LISTENING);
      const client = await runTs(`${chapter.chapterDir}/client.ts`, [`http://127.0.0.1:${port}/`]).finished;
      if (client.code === 0) expect(client.stdout).toContain('Hello, World!');
      else {
        expect(client.code).toBe(1);
        expect(client.stderr).toContain(`TODO(ch${chapter.id.slice(0, 2)})`);
      }
      expect(client.stderr).not.toMatch(/^\s+at /m);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('the server explains a port that is already taken', async () => {
    const first = runTs(`${chapter.solutionDir}/server.ts`, [], { PORT: '0' });
    try {
      const [, port] = await first.waitFor(LISTENING);
      const second = await runTs(`${chapter.solutionDir}/server.ts`, [], { PORT: port! }).finished;
      expect(second.code).toBe(1);
      expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      first.child.kill('SIGKILL');
    }
  });
});
