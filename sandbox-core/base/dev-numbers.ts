// A device's major and minor from a stat's rdev: Linux's new_encode_dev layout (glibc's
// major()/minor()), with the high bits above 32 that a JS number still holds exactly.
export function devNumbers(rdev: number): { major: number; minor: number } {
  return { major: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff) };
}
