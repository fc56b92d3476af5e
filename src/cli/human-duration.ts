/**
 * Docker's words for a span of host time (go-units HumanDuration), as `ps` shows them: "Up 5
 * seconds", "Exited (0) About a minute ago", "3 hours ago". These are the engine's records of host
 * time (when a container was created, started, ended), not simulated time.
 */

/** A duration in milliseconds in Docker's words. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(hours / 24 / 365)} years`;
}

/** "N units ago" of an ISO time, or '' when there is none. */
export function ago(iso: string | undefined, now: number): string {
  if (iso === undefined) return '';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '' : `${humanDuration(Math.max(0, now - at))} ago`;
}
