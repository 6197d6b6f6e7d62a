/**
 * A state machine written as a table, in the manner of h11's `_state.py`: `table[state][event] → state`.
 * An event the table does not list for the current state is an illegal move and throws a LocalProtocolError
 * naming the role, the state and the event.
 */
import { LocalProtocolError } from '../errors.js';

export type TransitionTable<S extends string, E extends string> = Readonly<
  Record<S, Partial<Readonly<Record<E, S>>>>
>;

export class StateMachine<S extends string, E extends string> {
  #state: S;
  constructor(
    readonly role: 'client' | 'server',
    readonly table: TransitionTable<S, E>,
    initial: S,
  ) {
    this.#state = initial;
  }

  get state(): S {
    return this.#state;
  }

  /** Whether `event` is legal now. */
  can(event: E): boolean {
    return this.table[this.#state][event] !== undefined;
  }

  /** Moves on `event`, or throws if the table does not allow it. */
  fire(event: E): S {
    const next = this.table[this.#state][event];
    if (next === undefined) {
      throw new LocalProtocolError(
        'illegal-transition',
        `${this.role} session in state ${this.#state} cannot handle event ${event}`,
      );
    }
    this.#state = next;
    return next;
  }
}
