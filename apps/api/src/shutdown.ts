/**
 * Graceful shutdown: stop accepting, let in-flight requests finish (bounded), close pools. Resolves
 * to the exit code: 0 when everything closed in time, 1 when the deadline forced it.
 */
export interface Closable {
  close(): Promise<void>;
}

export async function shutDown(
  target: Closable,
  opts: { timeoutMs: number; forceClose: () => void; log: (msg: string) => void },
): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), opts.timeoutMs);
  });
  try {
    const outcome = await Promise.race([target.close().then(() => 'closed' as const), deadline]);
    if (outcome === 'closed') return 0;
    opts.log(
      `in-flight requests still running after ${opts.timeoutMs} ms (SHUTDOWN_TIMEOUT_MS); closing them`,
    );
    opts.forceClose();
    return 1;
  } catch (err) {
    opts.log(`shutdown failed: ${(err as Error).message}`);
    return 1;
  } finally {
    clearTimeout(timer);
  }
}
