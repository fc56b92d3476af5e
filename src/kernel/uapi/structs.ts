/**
 * Byte layouts of the structures the kernel and libc exchange through user memory (arm64 LP64).
 * Each helper reads or writes a little-endian structure in a Uint8Array the size given.
 */

/** struct stat on arm64 (asm-generic/stat.h): 128 bytes. */
export const STAT_BYTES = 128;
/** Fields of struct stat this ABI fills. */
export interface Stat {
  dev: number;
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blksize: number;
  blocks: number;
  /** Seconds and nanoseconds of access, modification and change times. */
  atime: number;
  mtime: number;
  ctime: number;
}

/** Encode a struct stat. */
export function encodeStat(st: Stat): Uint8Array {
  const out = new Uint8Array(STAT_BYTES);
  const v = new DataView(out.buffer);
  const u64 = (offset: number, value: number): void =>
    v.setBigUint64(offset, BigInt(Math.max(0, Math.trunc(value))), true);
  u64(0, st.dev);
  u64(8, st.ino);
  v.setUint32(16, st.mode, true);
  v.setUint32(20, st.nlink, true);
  v.setUint32(24, st.uid, true);
  v.setUint32(28, st.gid, true);
  u64(32, st.rdev);
  u64(48, st.size);
  v.setInt32(56, st.blksize, true);
  u64(64, st.blocks);
  u64(72, Math.floor(st.atime));
  u64(88, Math.floor(st.mtime));
  u64(104, Math.floor(st.ctime));
  return out;
}

/** Decode a struct stat. */
export function decodeStat(bytes: Uint8Array): Stat {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u64 = (offset: number): number => Number(v.getBigUint64(offset, true));
  return {
    dev: u64(0),
    ino: u64(8),
    mode: v.getUint32(16, true),
    nlink: v.getUint32(20, true),
    uid: v.getUint32(24, true),
    gid: v.getUint32(28, true),
    rdev: u64(32),
    size: u64(48),
    blksize: v.getInt32(56, true),
    blocks: u64(64),
    atime: u64(72),
    mtime: u64(88),
    ctime: u64(104),
  };
}

/** One linux_dirent64 record: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name NUL-terminated, 8-aligned. */
export function encodeDirent(ino: number, offset: number, type: number, name: string): Uint8Array {
  const nameBytes = new TextEncoder().encode(name);
  const length = Math.ceil((19 + nameBytes.length + 1) / 8) * 8;
  const out = new Uint8Array(length);
  const v = new DataView(out.buffer);
  v.setBigUint64(0, BigInt(ino), true);
  v.setBigInt64(8, BigInt(offset), true);
  v.setUint16(16, length, true);
  out[18] = type;
  out.set(nameBytes, 19);
  return out;
}

/** Decode the linux_dirent64 records in `bytes`. */
export function decodeDirents(bytes: Uint8Array): { ino: number; type: number; name: string }[] {
  const out: { ino: number; type: number; name: string }[] = [];
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let at = 0; at + 19 <= bytes.length;) {
    const length = v.getUint16(at + 16, true);
    if (length < 20) break;
    let end = at + 19;
    while (end < at + length && bytes[end] !== 0) end++;
    out.push({
      ino: Number(v.getBigUint64(at, true)),
      type: bytes[at + 18]!,
      name: new TextDecoder().decode(bytes.subarray(at + 19, end)),
    });
    at += length;
  }
  return out;
}

/** struct utsname: six fields of 65 bytes. */
export const UTSNAME_FIELD = 65;
export const UTSNAME_BYTES = 6 * UTSNAME_FIELD;
/** struct timespec: tv_sec i64, tv_nsec i64. */
export const TIMESPEC_BYTES = 16;
/** struct sigaction on arm64: sa_handler u64, sa_flags u64, sa_restorer u64, sa_mask u64. */
export const SIGACTION_BYTES = 32;
