/**
 * The few typed errors of the analytics core. Each message starts with the field path so the caller
 * (worker, API) can pass it on unchanged.
 */
export class VisionInputError extends Error {
  override readonly name = 'VisionInputError';
  /** Every problem found, each with its own path (the first one is also `path`). */
  readonly problems: ReadonlyArray<{ path: string; message: string }>;
  constructor(
    readonly path: string,
    message: string,
    more: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    const problems = [{ path, message }, ...more];
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.problems = problems;
  }
}

/** A calibration whose four image points cannot define a homography (collinear, repeated, ...). */
export class CalibrationError extends Error {
  override readonly name = 'CalibrationError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}
