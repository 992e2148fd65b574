// Loaded into every test process by scripts/run-tests.mjs (node --import): keeps the name of the
// uvu test that is running, so that a file which ends before uvu's summary (a crash, an event
// loop that emptied while a test awaited, the runner's SIGTERM) still says which test it was,
// and which tests had failed before it: uvu prints a suite's failures only when the suite ends.
import { test } from 'uvu';

let current = '';
let last = '';
const failed = [];
// Registered before the file's own hooks: a test's name is set before its before.each hooks run.
// SBX_TEST_TIMES=1 prints each test's seconds (to find where a slow file's time goes).
const times = process.env.SBX_TEST_TIMES === '1';
let began = 0;
test.before.each((state) => { current = last = state.__test__; began = Date.now(); });
test.after.each(() => {
  if (times) process.stderr.write(`  ${((Date.now() - began) / 1000).toFixed(1)} s  ${current}\n`);
  current = '';
});
// uvu writes its mark for a test (✘ for a failure) to stdout when the test and its hooks are done.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (typeof chunk === 'string' && chunk.includes('✘') && last) failed.push(last);
  return write(chunk, ...rest);
};

const say = (why) => {
  if (!current) return;
  const before = failed.length ? `; failed before it: ${failed.map((n) => `"${n}"`).join(', ')}` : '';
  process.stderr.write(`\nsbx-test: ${why} while running test "${current}" (or its after.each hooks)${before}\n`);
};
// At a normal end every test has finished and `current` is empty.
process.on('exit', (code) => { say(`the file ended (status ${process.exitCode || code})`); });
// The runner sends SIGTERM first, at a file's timeout or when the run is stopped.
process.on('SIGTERM', () => { say('killed by the runner (SIGTERM: the file\'s timeout, or the run stopped)'); current = ''; process.exit(143); });
