// Compiles every AssemblyScript kernel (assembly/<name>/index.ts) to build/<name>.wasm with asconfig.json's release target.
import { readdirSync, existsSync, mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const asc = join(root, 'node_modules', '.bin', 'asc');
mkdirSync(join(root, 'build'), { recursive: true });
const assemblyDir = join(root, 'assembly');
for (const name of existsSync(assemblyDir) ? readdirSync(assemblyDir) : []) {
  const entry = join('assembly', name, 'index.ts');
  if (!existsSync(join(root, entry))) continue;
  execFileSync(asc, [entry, '--config', 'asconfig.json', '--target', 'release', '--outFile', `build/${name}.wasm`], {
    cwd: root,
    stdio: 'inherit',
  });
}
