// Preloaded (`node -r`) into a run the bench splits into steps without a profiler, which
// stretches what it samples (bench/startup.mjs). It marks public points only: vm.Script (the
// entry compiles its part there), the spawn of the helper through process_wrap (as sbx and
// bench/_run-floor.cjs start it), the helper's exit, and the process's exit; each mark is the
// time since Node started (process.uptime()) and the minor page faults so far. At exit one
// JSON line of marks is appended to the file SBX_BENCH_MARKS names.
'use strict';
const { appendFileSync } = require('node:fs');

const file = process.env.SBX_BENCH_MARKS;
const marks = [];
const mark = (step) => marks.push([step, process.uptime() * 1000, process.resourceUsage().minorPageFault]);
mark('preload');

const vm = require('node:vm');
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(...a) {
    mark('script');
    super(...a);
    mark('script-done');
  }
};

const binding = typeof process.binding === 'function' ? process.binding('process_wrap') : null;
if (binding) {
  const spawn = binding.Process.prototype.spawn;
  binding.Process.prototype.spawn = function (options) {
    mark('fork');
    const exited = this.onexit;
    if (typeof exited === 'function') this.onexit = function (...a) { mark('helper-exit'); return exited.apply(this, a); };
    const r = spawn.call(this, options);
    mark('forked');
    return r;
  };
}

process.on('exit', () => {
  mark('exit');
  if (file) appendFileSync(file, `${JSON.stringify(marks)}\n`);
});
