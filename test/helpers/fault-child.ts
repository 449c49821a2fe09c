/**
 * A child process of test/reliability/faults.test.ts: runs one writer of test/helpers/fault-cases.ts
 * under a fault plan that may end the process (process.exit, SIGKILL, a signal mid-write).
 * Argument: JSON `{ name, dir, v, plan }`. Prints `finished` when the writer returned.
 */
import { initBackend } from '../../lib/engine/backend';
import { CACHE_CASES, FILE_CASES } from './fault-cases';
import { injectFaults, type FaultPlan } from './faults';

const { name, dir, v, plan } = JSON.parse(process.argv[2]) as { name: string; dir: string; v: number; plan: FaultPlan };

async function main(): Promise<void> {
  await initBackend({ prefer: ['wasm', 'cpu'] });
  injectFaults(plan);
  if (name in FILE_CASES) await FILE_CASES[name].write(dir, v);
  else await CACHE_CASES[name].run(dir);
  process.stdout.write('finished\n');
  await new Promise((resolve) => setTimeout(resolve, 300)); // a signal held during the write acts now
}

void main();
