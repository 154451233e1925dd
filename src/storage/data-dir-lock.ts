import fs from 'node:fs';
import path from 'node:path';

/**
 * An exclusive, process-scoped lock on DATA_DIR. PGlite files must be opened by one process
 * at a time; a second opener would corrupt them. A lock left by a dead process is taken over.
 */
export class DataDirLock {
  /** Locks this process holds: a lock file naming our own pid may also be a dead predecessor's (containers reuse pids). */
  private static readonly held = new Set<string>();

  private constructor(private readonly file: string) {}

  static acquire(dataDir: string): DataDirLock {
    const file = path.join(dataDir, 'umbral.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
        DataDirLock.held.add(file);
        return new DataDirLock(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const holder = Number(fs.readFileSync(file, 'utf8').trim());
        const heldHere = holder === process.pid && DataDirLock.held.has(file);
        if (heldHere || (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder))) {
          throw new Error(
            `${dataDir} is in use by another Umbral process (pid ${holder}). Stop it, or point DATA_DIR elsewhere.`,
          );
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new Error(`could not lock ${dataDir}`);
  }

  release(): void {
    DataDirLock.held.delete(this.file);
    fs.rmSync(this.file, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
