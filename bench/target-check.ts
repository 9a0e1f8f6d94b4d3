/** One target of the benchmark issue and what this run measured for it. */
export interface TargetCheck {
  /** What is compared, e.g. "GET /auth/status ÷ bare route, throughput". */
  label: string;
  /** A ratio, or an absolute figure in `unit`. */
  value: number;
  unit: 'ratio' | 'ms' | 'MB';
  comparison: 'at least' | 'at most';
  limit: number;
  met: boolean;
  /** The absolute figures behind the value. */
  detail: string;
}

export function checkTarget(target: Omit<TargetCheck, 'met'>): TargetCheck {
  const met =
    Number.isFinite(target.value) &&
    (target.comparison === 'at least'
      ? target.value >= target.limit
      : target.value <= target.limit);
  return { ...target, met };
}

/** "1.23" for ratios, "812 ms", "91 MB". */
export function formatValue(value: number, unit: TargetCheck['unit']): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (unit === 'ratio') return `${value.toFixed(2)}×`;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** "≥ 0.80×", "≤ 1000 ms". */
export function formatLimit(check: TargetCheck): string {
  return `${check.comparison === 'at least' ? '≥' : '≤'} ${formatValue(check.limit, check.unit)}`;
}
