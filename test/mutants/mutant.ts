// A mutant is a learner's mistake, written as a change to the reference solution, with the
// tests that must catch it. The selftest (npm test) builds each mutant in .course/mutants/
// and proves that those tests fail on it, so a test that stops catching the mistake it was
// written for is found at once.

export interface Mutant {
  /** The mistake, in a learner's words. */
  name: string;
  /** A file of the chapter, e.g. `server.ts` or `protocol.ts`. */
  file: string;
  /** Text in the reference file, found exactly once, and what replaces it. */
  find: string;
  replace: string;
  /** Each entry is part of a test's name; every test it names must fail on the mutant. */
  caughtBy: string[];
}
