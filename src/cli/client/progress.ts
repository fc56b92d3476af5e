/**
 * Progress of a long operation on stderr: a spinner and a label while it runs, cleared when it
 * ends. Only on a terminal (`process.stderr.isTTY`); piped output stays quiet.
 */

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;

/** Await `work`, showing `label` with a spinner on a terminal meanwhile. */
export async function withProgress<T>(label: string, work: Promise<T>): Promise<T> {
  const stderr = process.stderr;
  if (stderr.isTTY !== true) return work;
  let frame = 0;
  const draw = (): void => {
    stderr.write(`\r${FRAMES[frame % FRAMES.length]!} ${label}`);
    frame += 1;
  };
  draw();
  const timer = setInterval(draw, FRAME_MS);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    stderr.write('\r\x1b[2K');
  }
}
