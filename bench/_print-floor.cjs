'use strict';
// The floor of `sbx --version`: Node starting a script file (the CommonJS loader, which
// `node -e 0` skips) that writes one line to fd 1.
require('node:fs').writeSync(1, 'sbx 0.1.0\n');
