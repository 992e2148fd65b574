// The helper's answer to a scan that found nothing in any layer: one job start ('J' u32 job,
// native/scan.c) per layer and no other record. A module of its own: a run whose answer is
// this ends without loading the review's decoder (cli/run-exec.ts).

/** Whether `answer` is the `J` records of jobs 0 to n-1 and nothing else. */
export function onlyJobStarts(answer: Buffer, n: number): boolean {
  if (answer.length !== 5 * n) return false;
  for (let j = 0; j < n; j++) if (answer[5 * j] !== 0x4a || answer.readUInt32LE(5 * j + 1) !== j) return false;
  return true;
}
