// The container state machine: every allowed transition and Docker's error for the rest.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ContainerState,
  LifecycleError,
  transition,
  type LifecycleAction,
} from '../../../src/runtime/engine/lifecycle.js';

const { Created, Running, Exited, Removed } = ContainerState;

describe('container lifecycle', () => {
  it('starts, stops, restarts and removes', () => {
    expect(transition('web', Created, 'start')).toEqual({ state: Running, changes: true });
    expect(transition('web', Running, 'stop')).toEqual({ state: Exited, changes: true });
    expect(transition('web', Exited, 'start')).toEqual({ state: Running, changes: true });
    expect(transition('web', Running, 'exited')).toEqual({ state: Exited, changes: true });
    expect(transition('web', Exited, 'rm')).toEqual({ state: Removed, changes: true });
    expect(transition('web', Created, 'rm')).toEqual({ state: Removed, changes: true });
    expect(transition('web', Running, 'rm-force')).toEqual({ state: Removed, changes: true });
  });

  it('treats start of a running and stop of a stopped container as no-ops (Docker: 304)', () => {
    expect(transition('web', Running, 'start')).toEqual({ state: Running, changes: false });
    expect(transition('web', Exited, 'stop')).toEqual({ state: Exited, changes: false });
    expect(transition('web', Created, 'stop')).toEqual({ state: Created, changes: false });
  });

  it("gives Docker's errors for invalid transitions", () => {
    const error = (state: ContainerState, action: LifecycleAction): LifecycleError => {
      try {
        transition('web', state, action);
      } catch (e) {
        if (e instanceof LifecycleError) return e;
      }
      throw new Error('expected a LifecycleError');
    };
    expect(error(Exited, 'exec').message).toBe('Container web is not running');
    expect(error(Created, 'kill').message).toBe('Container web is not running');
    expect(error(Exited, 'kill').status).toBe(409);
    expect(error(Running, 'rm').message).toBe(
      'You cannot remove a running container web. Stop the container before attempting removal or force remove',
    );
    expect(error(Removed, 'start').message).toBe('No such container: web');
    expect(error(Removed, 'start').status).toBe(404);
  });

  it('never leaves the four states, and removed is final', () => {
    const states = [Created, Running, Exited] as const;
    const actions: LifecycleAction[] = ['start', 'stop', 'kill', 'exec', 'rm', 'rm-force', 'exited'];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...actions), { maxLength: 30 }),
        fc.constantFrom(...states),
        (seq, first) => {
          let state: ContainerState = first;
          for (const action of seq) {
            try {
              state = transition('c', state, action).state;
            } catch (e) {
              expect(e).toBeInstanceOf(LifecycleError);
            }
            expect(Object.values(ContainerState)).toContain(state);
          }
          if (state === Removed) expect(() => transition('c', state, 'start')).toThrow(LifecycleError);
        },
      ),
    );
  });
});
