// A grading plan: which folder each group of test files grades. The course commands build
// one and hand it to vitest (see vitest.config.ts) as JSON in COURSE_PLAN.

export interface PlanProject {
  /** Unique name; results are reported per project. */
  name: string;
  /** The folder the tests grade, e.g. `solutions/03-stream-reads`; none for tooling tests. */
  impl?: string;
  /** Test files, relative to the repository root. */
  tests: string[];
  /** Run only the tests whose names contain one of these (the rest are skipped). */
  only?: string[];
}

export function readPlan(json: string | undefined): PlanProject[] | undefined {
  if (!json) return undefined;
  const plan = JSON.parse(json) as PlanProject[];
  if (!Array.isArray(plan) || plan.some((project) => typeof project.name !== 'string' || !Array.isArray(project.tests))) {
    throw new Error('COURSE_PLAN must be a JSON list of { name, impl?, tests }');
  }
  return plan;
}
