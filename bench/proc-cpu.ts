/**
 * CPU time of processes, for benchmarks that split a run's CPU between the processes on the machine
 * (bench:scale: workers, sandbox, Azurite, Redis). Linux only (/proc/PID/stat, proc(5)): elsewhere
 * the functions return NaN.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Whether the kernel lists a thread's children (/proc/PID/task/TID/children, CONFIG_PROC_CHILDREN). */
const CHILDREN_LISTED = existsSync(`/proc/self/task/${process.pid}/children`);

/** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ: 100 on every Linux ABI in use). */
const USER_HZ = 100;

/**
 * User + system CPU seconds of one process so far (proc(5) fields 14 and 15), 0 when it is gone.
 * @returns seconds (1/USER_HZ resolution), NaN when /proc is not there
 */
export function processCpuSeconds(pid: number): number {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'latin1'); } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' && process.platform === 'linux' ? 0 : NaN;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / USER_HZ; // fields 14 and 15 are the 12th and 13th after field 2
}

/** The process ids of `pid`'s children (/proc/PID/task/TID/children, every thread), [] when none or the process is gone. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[] = [];
  try { tasks = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const t of tasks) {
    try { out.push(...readFileSync(`/proc/${pid}/task/${t}/children`, 'latin1').split(' ').filter(Boolean).map(Number)); } catch { /* the thread ended meanwhile */ }
  }
  return out;
}

/**
 * CPU seconds of a process and all its descendants that are alive now (a launcher and the node
 * process it started, e.g. `outport worker` under bin/outport.js's heap cap). Read it before the
 * processes exit: a finished child's time is only added to its parent's cutime once it is reaped.
 * @returns seconds, NaN when /proc or its children files are not there
 */
export function processTreeCpuSeconds(pid: number): number {
  if (!CHILDREN_LISTED) return NaN;
  let sum = processCpuSeconds(pid);
  for (const c of childrenOf(pid)) sum += processTreeCpuSeconds(c);
  return sum;
}
