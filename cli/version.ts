/** The version in the package.json above this file (the mlproxy package). */
import fs from 'node:fs';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageVersion(): string {
  let dir = nodePath.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = nodePath.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mlproxy' && pkg.version) return pkg.version;
    }
    const up = nodePath.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
