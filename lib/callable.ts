// callable.ts - node:net's Socket and Server are plain constructor functions,
// so `net.Socket()` and `net.Server(listener)` work without `new` (Node's own
// tests and older code call them that way), and pre-class code inherits from
// them with `util.inherits(MySocket, net.Socket)` plus
// `net.Socket.call(this, options)` in its own constructor. An ES class can do
// neither, so:
// - the public name is a small named function in front of the class that
//   constructs it, with the caller's new.target when there is one (a
//   subclass's `super()`);
// - called on an object of a legacy subclass, it initialises THAT object: the
//   class's base is an "adoptable" wrapper of Duplex/EventEmitter that, when
//   asked, returns the caller's object instead of a fresh one, and the class
//   constructor then sets its fields on it (the return-override rule of
//   derived constructors).

type AnyClass = abstract new (...args: never[]) => unknown;
type AnyFunction = (...args: never[]) => unknown;
export type Callable<C extends AnyClass> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

let adoptee: object | null = null;

/** A base to extend instead of `Base`: the same, except during initLegacy(). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function adoptableBase<B extends abstract new (...args: any[]) => unknown>(Base: B): B {
  const base = function (this: object, ...args: unknown[]): object {
    const self = adoptee ?? this;
    adoptee = null;
    (Base as unknown as (...a: unknown[]) => unknown).apply(self, args);
    return self;
  };
  Object.setPrototypeOf(base, Base); // statics (Duplex.from, EventEmitter.once, ...)
  base.prototype = Base.prototype;
  return base as unknown as B;
}

/**
 * `Cls.call(target, ...args)` of pre-class code: target inherits from
 * Cls.prototype but was never constructed (it has no own `_events`, which
 * every EventEmitter's constructor sets).
 */
export function isLegacyCall(target: unknown, cls: AnyClass): target is object {
  return typeof target === 'object' && target !== null && target instanceof cls
    && !Object.prototype.hasOwnProperty.call(target, '_events');
}

/** Runs cls's constructor on `target` itself (its base must be adoptableBase). */
export function initLegacy(cls: AnyClass, target: object, args: unknown[]): void {
  adoptee = target;
  try {
    Reflect.construct(cls as unknown as new (...a: unknown[]) => unknown, args);
  } finally {
    adoptee = null;
  }
}

/**
 * Makes `front` stand for `cls`: prototype, statics and instance.constructor.
 * `x instanceof front` also holds for instances of `alsoCovers` (node:net's
 * own class): Node's http and tls make node:net sockets and servers
 * (`req.socket`, a TLSSocket, an http.Server), and code that checks them
 * against the net module it imported must still see a net.Socket/net.Server.
 */
export function callableClass<C extends AnyClass>(cls: C, front: AnyFunction, length: number, alsoCovers: AnyClass): Callable<C> {
  Object.defineProperty(front, 'length', { value: length });
  const ordinary = Function.prototype[Symbol.hasInstance];
  Object.defineProperty(front, Symbol.hasInstance, {
    // `this` is a subclass when inherited: only the class itself widens.
    value: function (this: AnyFunction, obj: unknown): boolean {
      return ordinary.call(this, obj) || (this === front && obj instanceof alsoCovers);
    },
    configurable: true,
  });
  Object.setPrototypeOf(front, cls); // statics, and Duplex's or EventEmitter's behind them
  (front as unknown as { prototype: unknown }).prototype = cls.prototype;
  Object.defineProperty(cls.prototype, 'constructor', { value: front, writable: true, configurable: true, enumerable: false });
  return front as unknown as Callable<C>;
}
