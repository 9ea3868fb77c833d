// Parsers of command-line flag values shared by every dhts command: each names the flag and the value it refused.
import { InvalidArgumentError } from 'commander';

/** A finite number ≥ 0 (ports, CPUs, milliseconds, bytes). */
export function nonNegativeNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a non-negative number, got '${v}'`);
    return n;
  };
}

/** A finite number > 0 (seconds). */
export function positiveNumber(flag: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${flag} must be a positive number, got '${v}'`);
    return n;
  };
}

/** An integer ≥ min (counts, seeds). */
export function integerAtLeast(flag: string, min: number): (v: string) => number {
  const what = min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer ≥ ${min}`;
  return (v) => {
    const n = Number(v);
    if (!/^\s*-?\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`${flag} must be ${what}, got '${v}'`);
    return n;
  };
}

/** KEY=VALUE, repeatable: collects into one record. */
export function keyValue(flag: string): (v: string, previous?: Record<string, string>) => Record<string, string> {
  return (v, previous = {}) => {
    const i = v.indexOf('=');
    if (i <= 0) throw new InvalidArgumentError(`${flag} expects KEY=VALUE, got '${v}'`);
    return { ...previous, [v.slice(0, i)]: v.slice(i + 1) };
  };
}
