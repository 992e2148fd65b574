// The escape strings a sandboxed command's output loses on its way through its pty to the
// user's terminal (native/termfilter.c). Each makes the terminal emulator act on the user's
// machine, outside every sandbox: what the command sets or starts there is not a change any
// review lists.

/** OSC strings, by number. */
export const DROPPED_OSC: readonly number[] = [
  // The clipboard (set, or read back as input): a command pasted later into a host shell.
  52,
  // kitty's clipboard protocol, the same.
  5522,
  // iTerm2's (also when sbx runs over ssh from a Mac): File= saves a file on the user's
  // machine, CopyToClipboard, and the rest of its commands.
  1337,
  // kitty's file transfer: reads and writes the user's files.
  5113,
];

/** DCS strings, by the text they start with. */
export const DROPPED_DCS: readonly string[] = [
  // kitty's remote control, where the user allowed it: `launch` starts a program on the host.
  '@kitty-cmd',
];
