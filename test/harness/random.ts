// Randomness a failure can be replayed from: every random choice comes from one seed, which
// a failing test prints. COURSE_SEED=<seed> replays the same choices.

/** mulberry32: a small, fast PRNG; plenty for choosing where to split bytes. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of this run: COURSE_SEED if set, else a new one. */
export const SEED = process.env.COURSE_SEED ? Number(process.env.COURSE_SEED) : Math.floor(Math.random() * 2 ** 31);

/** How to replay this run's random choices. */
export function replay(command: string): string {
  return `seed ${SEED}: COURSE_SEED=${SEED} ${command} replays these exact splits`;
}

/** Sizes of random pieces that add up to `length`, each from 1 to `max` bytes. */
export function randomPieces(length: number, next: () => number, max = 16): number[] {
  const sizes: number[] = [];
  for (let left = length; left > 0; ) {
    const size = Math.min(left, 1 + Math.floor(next() * max));
    sizes.push(size);
    left -= size;
  }
  return sizes;
}
