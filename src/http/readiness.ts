/** The answer `/readyz` serves: ready only when every check is `true`; a string is the reason it is not. */
export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, boolean | string>;
}

export type Readiness = () => Promise<ReadinessReport>;

/** One dependency's check: `true` when ready, `false` or a reason when not; throwing counts as not ready. */
export type ReadinessCheck = () => Promise<boolean | string> | boolean | string;

export const DEFAULT_CHECK_TIMEOUT_MS = 2000;

/**
 * Combines named checks (e.g. nats, database, models) into one Readiness. The checks run in
 * parallel, each bounded by `timeoutMs`, so a hung dependency makes the pod unready instead of
 * hanging the probe.
 */
export function readinessFromChecks(checks: Record<string, ReadinessCheck>, timeoutMs = DEFAULT_CHECK_TIMEOUT_MS): Readiness {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => [name, await runCheck(check, timeoutMs)] as const),
    );
    const results = Object.fromEntries(entries);
    return { ready: entries.every(([, result]) => result === true), checks: results };
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}
