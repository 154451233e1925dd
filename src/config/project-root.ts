import fs from 'node:fs';
import path from 'node:path';

/**
 * The directory holding package.json and views/. Found by walking up, so the same code finds it
 * whether it runs from src/ (tsx: npm run dev) or compiled under build/ (npm start, bin/umbral.js, the tests).
 */
export const PROJECT_ROOT = findRoot(import.meta.dirname);

function findRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'views'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no project root (package.json and views/) above ${start}`);
  }
}

/** A path inside views/ (pages, emails, locales, assets). */
export function viewsPath(...parts: string[]): string {
  return path.join(PROJECT_ROOT, 'views', ...parts);
}
