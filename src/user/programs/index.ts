/**
 * The programs of the user layer, by the name their executables carry (`\x7fRCX <name>\n`).
 * `registerPrograms` puts all of them into a registry; the runner installs one executable per
 * name (e.g. /bin/<name>) with `executableImage(name)`.
 */
import type { ProgramMain, ProgramRegistry } from '../program.js';
import { buildMain } from './build/build.js';
import { ccMain } from './build/cc.js';
import { ldMain } from './build/ld.js';
import { canaryMain } from './canary.js';
import { catMain } from './coreutils/cat.js';
import { cpMain } from './coreutils/cp.js';
import { echoMain } from './coreutils/echo.js';
import { envMain } from './coreutils/env.js';
import { grepMain } from './coreutils/grep.js';
import { headMain } from './coreutils/head.js';
import { hostnameMain } from './coreutils/hostname.js';
import { idMain } from './coreutils/id.js';
import { killMain } from './coreutils/kill.js';
import { lnMain } from './coreutils/ln.js';
import { lsMain } from './coreutils/ls.js';
import { mkdirMain } from './coreutils/mkdir.js';
import { mountMain, umountMain } from './coreutils/mount.js';
import { mvMain } from './coreutils/mv.js';
import { ncMain } from './coreutils/nc.js';
import { nsenterMain } from './coreutils/nsenter.js';
import { psMain } from './coreutils/ps.js';
import { rmMain } from './coreutils/rm.js';
import { sleepMain } from './coreutils/sleep.js';
import { falseMain, trueMain } from './coreutils/true-false.js';
import { wcMain } from './coreutils/wc.js';
import { hackbenchMain } from './hackbench.js';
import { httpLoadMain } from './http/load.js';
import { httpdMain } from './http/server.js';
import { kvClientMain } from './kv/client.js';
import { kvServerMain } from './kv/server.js';
import { lmbenchMain } from './lmbench/main.js';
import { shMain } from './sh/main.js';
import { tiniMain } from './tini.js';

/** Every program by name. */
export const PROGRAMS: Readonly<Record<string, ProgramMain>> = {
  sh: shMain,
  echo: echoMain,
  cat: catMain,
  ls: lsMain,
  cp: cpMain,
  mv: mvMain,
  rm: rmMain,
  mkdir: mkdirMain,
  ln: lnMain,
  ps: psMain,
  env: envMain,
  sleep: sleepMain,
  true: trueMain,
  false: falseMain,
  wc: wcMain,
  grep: grepMain,
  head: headMain,
  id: idMain,
  hostname: hostnameMain,
  mount: mountMain,
  umount: umountMain,
  kill: killMain,
  nc: ncMain,
  nsenter: nsenterMain,
  'kv-server': kvServerMain,
  'kv-client': kvClientMain,
  httpd: httpdMain,
  'http-load': httpLoadMain,
  hackbench: hackbenchMain,
  build: buildMain,
  cc: ccMain,
  ld: ldMain,
  lmbench: lmbenchMain,
  canary: canaryMain,
  tini: tiniMain,
};

/** The names of all programs, sorted. */
export const PROGRAM_NAMES: readonly string[] = Object.keys(PROGRAMS).sort();

/** The busybox-style applets (what a minimal image's /bin holds besides sh). */
export const APPLET_NAMES: readonly string[] = [
  'cat',
  'cp',
  'echo',
  'env',
  'false',
  'grep',
  'head',
  'hostname',
  'id',
  'kill',
  'ln',
  'ls',
  'mkdir',
  'mount',
  'mv',
  'nc',
  'nsenter',
  'ps',
  'rm',
  'sleep',
  'tini',
  'true',
  'umount',
  'wc',
];

/** Register every program in `registry`. */
export function registerPrograms(registry: ProgramRegistry): void {
  for (const name of PROGRAM_NAMES) registry.register(name, PROGRAMS[name]!);
}
