// ustar headers for tests that build tar layers by hand, a block at a time (so a test can
// stream a file of any size, or write names and types a tar writer would refuse).

/** A ustar header: `type` '0' file, '2' symlink (to `link`), '5' dir; `size` in bytes (octal field: below 8 GiB). */
export function ustarHeader(name: string, opts: { type?: string; size?: number; link?: string; mode?: number; mtime?: number } = {}): Buffer {
  const { type = '0', size = 0, link = '', mode = 0o644, mtime = 0 } = opts;
  const h = Buffer.alloc(512);
  h.write(name, 0, 'latin1');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100); h.write('0000000\0', 108); h.write('0000000\0', 116);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write(`${mtime.toString(8).padStart(11, '0')}\0`, 136);
  h.write(type, 156);
  h.write(link, 157, 'latin1');
  h.write('ustar\0' + '00', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0; for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return h;
}

/** The zeros that end an entry of `n` bytes on a 512-byte block. */
export const tarPad = (n: number): Buffer => Buffer.alloc((512 - (n % 512)) % 512);
