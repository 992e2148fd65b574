// The seccomp program for a run: compiled from a policy by our compiler in policies/.
import { compileSeccompPolicy } from '../policies/seccomp/index.js';

export function loadSeccomp(ref: string): Buffer {
  return compileSeccompPolicy(ref);
}
