// events.ts - listener types for the typed event overloads of Socket and Server.
//
// Each class declares its six listener methods itself, over its own event map
// (socket.ts, server.ts): one generic interface merged into both classes is
// refused (TS2320: the merged interface may not extend both the class's base
// and that interface, whose `on` differ), and a base typed as the intersection
// of the two loses the listeners' contextual types (in `s.on('data', (d) =>`,
// `d` is any).

/** A listener taking an event's arguments (a tuple from an event map). */
export type EventListener<Args extends unknown[]> = (...args: Args) => void;

/** Any listener, for event names outside the map (EventEmitter's own shape). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyListener = (...args: any[]) => void;
