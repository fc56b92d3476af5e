/**
 * The life of a container as the engine tracks it, with Docker's states and the errors Docker
 * gives for an action a state does not allow (moby daemon/*: "is not running", "cannot remove a
 * running container" ...).
 *
 *   created ──start──▶ running ──(init exits | stop | kill)──▶ exited ──start──▶ running
 *      │                                                         │
 *      └──────────────────────────rm──────────────────────────── ┴──▶ removed
 */

/** Docker's container states (the subset this engine has). */
export const ContainerState = {
  Created: 'created',
  Running: 'running',
  Exited: 'exited',
  Removed: 'removed',
} as const;
export type ContainerState = (typeof ContainerState)[keyof typeof ContainerState];

/** What the engine is asked to do to a container. */
export type LifecycleAction = 'start' | 'stop' | 'kill' | 'exec' | 'rm' | 'rm-force' | 'exited';

/** An action the current state refuses, with Docker's message and HTTP status. */
export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
  /** The HTTP status Docker's API answers with (304 not modified, 409 conflict). */
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }
}

/** The outcome of an allowed action: the new state, and whether anything must be done. */
export interface Transition {
  readonly state: ContainerState;
  /** False when the action is a no-op in this state (Docker answers 304 for start/stop). */
  readonly changes: boolean;
}

/**
 * The state after `action` on a container called `name` in `state`, or a LifecycleError with
 * Docker's wording.
 */
export function transition(name: string, state: ContainerState, action: LifecycleAction): Transition {
  if (state === ContainerState.Removed) throw new LifecycleError(`No such container: ${name}`, 404);
  switch (action) {
    case 'start':
      return state === ContainerState.Running
        ? { state, changes: false }
        : { state: ContainerState.Running, changes: true };
    case 'stop':
      return state === ContainerState.Running
        ? { state: ContainerState.Exited, changes: true }
        : { state, changes: false };
    case 'kill':
    case 'exec':
      if (state !== ContainerState.Running) throw new LifecycleError(`Container ${name} is not running`, 409);
      return { state: action === 'kill' ? ContainerState.Exited : state, changes: true };
    case 'rm':
      if (state === ContainerState.Running)
        throw new LifecycleError(
          `You cannot remove a running container ${name}. Stop the container before attempting removal or force remove`,
          409,
        );
      return { state: ContainerState.Removed, changes: true };
    case 'rm-force':
      return { state: ContainerState.Removed, changes: true };
    case 'exited':
      return state === ContainerState.Running
        ? { state: ContainerState.Exited, changes: true }
        : { state, changes: false };
  }
}
