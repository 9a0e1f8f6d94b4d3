import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux for every architecture). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used so far, user and system, all its threads (the libuv threadpool
 * included), in milliseconds, from /proc/<pid>/stat (fields 14 and 15, utime and stime). The
 * resolution is 10 ms: loads measured with it run for a second or more of CPU.
 */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`bad /proc/${pid}/stat`);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}
