import { readFileSync } from 'node:fs';

/** Kernel clock ticks per second (USER_HZ); 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100;

/** CPU time (user + system) a process has used so far, in milliseconds; 0 when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state = field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Sum of {@link cpuMs} over several processes. */
export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
}

/** Resident set size of a process in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/**
 * Time the process' main thread (Node's event loop) has spent runnable but waiting for a CPU, in
 * milliseconds (`/proc/<pid>/schedstat`, second field); 0 when it is gone or not available.
 */
export function runQueueWaitMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ');
    return Number(fields[1]) / 1e6;
  } catch {
    return 0;
  }
}

/** Sum of {@link runQueueWaitMs} over several processes. */
export function totalRunQueueWaitMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + runQueueWaitMs(pid), 0);
}
