/** Limits every decoder enforces, so hostile or broken input gets a clear error instead of exhausting memory. */
export interface DecodeLimits {
  /** Largest accepted message in bytes. Default 1 MiB. */
  readonly maxBytes: number;
  /** Deepest element nesting. Default 64. */
  readonly maxDepth: number;
  /** Most elements in one message. Default 100 000. */
  readonly maxElements: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxBytes: 1024 * 1024,
  maxDepth: 64,
  maxElements: 100_000,
};

export function resolveLimits(limits: Partial<DecodeLimits> | undefined): DecodeLimits {
  return { ...DEFAULT_DECODE_LIMITS, ...limits };
}
