/** Readings from /proc: memory and CPU time of processes, busy time of each core. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** The kernel's transparent huge page mode ("always", "madvise", "never"), if it tells. */
export function transparentHugePages(): string | undefined {
  try {
    return /\[(\w+)\]/.exec(fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes (VmRSS), or undefined once the process is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** The fields of a /proc/<pid>/stat line after the command name: [0] is field 3 (state). */
export function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * CPU time of a process in nanoseconds, from each thread's /proc/<pid>/task/<tid>/schedstat (exact,
 * where /proc/<pid>/stat counts 10 ms ticks): all its threads, and its main thread (Node's
 * JavaScript thread) alone. Threads gone since the last reading no longer count.
 */
export function threadCpuNs(pid: number): { all: number; main: number } {
  const ran = (tid: string) => Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  let all = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      all += ran(tid);
    } catch {
      // the thread ended between the listing and the reading
    }
  }
  return { all, main: ran(String(pid)) };
}

/** Minor page faults of a process so far (all its threads; field 10 of /proc/<pid>/stat). */
export function minorFaults(pid: number): number {
  return Number(statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))[7]);
}

/** User + system CPU seconds used by a process (all its threads), or undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const fields = statFields(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    // utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** From a process's own stat line: the CPU seconds of the children it has waited for (cutime + cstime, fields 16 and 17). */
export function waitedChildrenCpuSeconds(stat: string): number {
  const fields = statFields(stat);
  return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond();
}

/** Busy and total seconds per core ("cpu0", "cpu1", …) and for the whole machine ("cpu"). */
export function coreTimes(): Map<string, { busy: number; total: number }> {
  const out = new Map<string, { busy: number; total: number }>();
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    if (!line.startsWith('cpu')) continue;
    const [name = '', ...rest] = line.split(/\s+/);
    const v = rest.filter(Boolean).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out.set(name, { busy: (total - idle) / ticksPerSecond(), total: total / ticksPerSecond() });
  }
  return out;
}

/** PostgreSQL backends serving `database` (their command line names it, as `postgres: … user db host …`). */
export function postgresBackends(database: string): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('postgres: ') && cmdline.split(' ').includes(database)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export function cpuAffinity(pid: number): string | undefined {
  try {
    return /Cpus_allowed_list:\s*(\S+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Pins this whole process (every thread) to `cores`, e.g. "1". */
export function pinSelf(cores: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' });
    return cpuAffinity(process.pid) === cores;
  } catch {
    return false;
  }
}

export function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Samples the server's RSS every `intervalMs` (peak kept) and keeps the CPU time of the
 * PostgreSQL backends it finds, so that a phase can say how much CPU went where.
 */
export class Sampler {
  peakRss = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Last CPU reading of each backend ever seen. */
  private readonly backendCpu = new Map<number, number>();
  private ticks = 0;

  constructor(
    private readonly serverPid: number,
    private readonly database: string | undefined,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): void {
    const rss = rssBytes(this.serverPid);
    if (rss !== undefined && rss > this.peakRss) this.peakRss = rss;
    if (!this.database) return;
    // New backends appear as the pool grows: look for them every second.
    if (this.ticks++ % Math.max(1, Math.round(1000 / this.intervalMs)) === 0) {
      for (const pid of postgresBackends(this.database)) if (!this.backendCpu.has(pid)) this.backendCpu.set(pid, 0);
    }
    for (const pid of this.backendCpu.keys()) {
      const cpu = cpuSeconds(pid);
      if (cpu !== undefined) this.backendCpu.set(pid, cpu);
    }
  }

  /** CPU seconds used so far by the database's backends (those gone keep their last reading). */
  backendsCpuSeconds(): number {
    this.sample();
    let sum = 0;
    for (const cpu of this.backendCpu.values()) sum += cpu;
    return sum;
  }
}

export interface CpuSnapshot {
  at: number;
  server: number;
  loadGenerator: number;
  database: number;
  cores: Map<string, { busy: number; total: number }>;
}

export function cpuSnapshot(serverPid: number, sampler: Sampler | undefined): CpuSnapshot {
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    server: cpuSeconds(serverPid) ?? 0,
    loadGenerator: (usage.user + usage.system) / 1e6,
    database: sampler?.backendsCpuSeconds() ?? 0,
    cores: coreTimes(),
  };
}

/** Cores used (CPU seconds per wall second) by each party between two snapshots. */
export interface CpuUse {
  server: number;
  loadGenerator: number;
  /** PostgreSQL backends of the bench database (0 for PGlite, which runs inside the server). */
  database: number;
  /** Everything else on the machine (other people's jobs, the kernel): the noise. */
  others: number;
  /** Busy fraction of each core. */
  coreBusy: Record<string, number>;
}

export function cpuUse(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  const wall = (b.at - a.at) / 1000;
  const per = (x: number) => Math.round((x / wall) * 100) / 100;
  const coreBusy: Record<string, number> = {};
  for (const [name, end] of b.cores) {
    const start = a.cores.get(name);
    if (!start || name === 'cpu') continue;
    const total = end.total - start.total;
    coreBusy[name] = total > 0 ? Math.round(((end.busy - start.busy) / total) * 100) / 100 : 0;
  }
  const machineBusy = (b.cores.get('cpu')?.busy ?? 0) - (a.cores.get('cpu')?.busy ?? 0);
  const server = b.server - a.server;
  const loadGenerator = b.loadGenerator - a.loadGenerator;
  const database = b.database - a.database;
  return {
    server: per(server),
    loadGenerator: per(loadGenerator),
    database: per(database),
    others: per(Math.max(0, machineBusy - server - loadGenerator - database)),
    coreBusy,
  };
}

/** Cores kept busy by everything on the machine over `ms` (this process included, if it works meanwhile). */
export async function machineBusyCores(ms: number): Promise<number> {
  const a = coreTimes().get('cpu');
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = coreTimes().get('cpu');
  if (!a || !b) return 0;
  return Math.round(((b.busy - a.busy) / (ms / 1000)) * 100) / 100;
}
