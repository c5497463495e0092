// events.ts - listener types for the typed event overloads of Socket and Server.

/** A listener taking an event's arguments (a tuple from an event map). */
export type EventListener<Args extends unknown[]> = (...args: Args) => void;

/** Any listener, for event names outside the map (EventEmitter's own shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyListener = (...args: any[]) => void;
