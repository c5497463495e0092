// callable.ts - node:net's Socket and Server are plain constructor functions,
// so `net.Socket()` and `net.Server(listener)` work without `new` (Node's own
// tests and older code call them that way), and pre-class code inherits from
// them with `util.inherits(MySocket, net.Socket)` plus
// `net.Socket.call(this, options)` in its own constructor. An ES class can do
// neither, so:
// - the public name is a Proxy of the class (callableClass below) whose
//   construct trap builds the class (with a subclass's new.target when
//   super() comes through it) and whose apply trap builds one when called;
// - called on an object of a legacy subclass, it initialises THAT object: the
//   class's base is an "adoptable" wrapper of Duplex/EventEmitter that, when
//   asked, returns the caller's object instead of a fresh one, and the class
//   constructor then sets its fields on it (the return-override rule of
//   derived constructors).

type AnyClass = abstract new (...args: never[]) => unknown;
type Callable<C extends AnyClass> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

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
  Object.defineProperty(base, 'name', { value: Base.name }); // util.inspect: "class Socket extends Duplex"
  Object.setPrototypeOf(base, Base); // statics (Duplex.from, EventEmitter.once, ...)
  base.prototype = Base.prototype;
  return base as unknown as B;
}

/**
 * `Cls.call(target, ...args)` of pre-class code: target inherits from
 * Cls.prototype but was never constructed (it has no own `_events`, which
 * every EventEmitter's constructor sets).
 */
function isLegacyCall(target: unknown, cls: AnyClass): target is object {
  return typeof target === 'object' && target !== null && target instanceof cls
    && !Object.prototype.hasOwnProperty.call(target, '_events');
}

/** Runs cls's constructor on `target` itself (its base must be adoptableBase). */
function initLegacy(cls: AnyClass, target: object, args: unknown[]): void {
  adoptee = target;
  try {
    Reflect.construct(cls as unknown as new (...a: unknown[]) => unknown, args);
  } finally {
    adoptee = null;
  }
}

/**
 * The public constructor for `cls`: a Proxy of the class that also answers a
 * plain call (a new instance, or initLegacy on a legacy subclass's object).
 * A Proxy and not a function in front: V8 caches an object layout per
 * (class, new.target) pair only when new.target never allocated objects of
 * its own, which a plain function used with `new` does; instances made
 * through such a function each got a fresh layout (30-40 µs per `new
 * net.Socket()` instead of 0.3, and slow property access after).
 *
 * `x instanceof` it also holds for instances of `alsoCovers` (node:net's own
 * class): Node's http and tls make node:net sockets and servers
 * (`req.socket`, a TLSSocket, an http.Server), and code that checks them
 * against the net module it imported must still see a net.Socket/net.Server.
 */
export function callableClass<C extends AnyClass>(cls: C, alsoCovers: AnyClass): Callable<C> {
  const ctor = cls as unknown as new (...args: unknown[]) => object;
  const ordinary = Function.prototype[Symbol.hasInstance];
  const hasInstance = function (this: unknown, obj: unknown): boolean {
    // `this` is a subclass when the lookup came through one: only the class itself widens.
    return ordinary.call(this, obj) || (this === front && obj instanceof alsoCovers);
  };
  const front: Callable<C> = new Proxy(cls, {
    construct(_target, args, newTarget) {
      // new Socket(): the class's own layout; a subclass's super(): its own.
      return newTarget === front ? new ctor(...args) : Reflect.construct(ctor, args, newTarget);
    },
    apply(_target, thisArg, args) {
      if (isLegacyCall(thisArg, cls)) return initLegacy(cls, thisArg, args);
      return new ctor(...args);
    },
    get(target, key, receiver) {
      if (key === Symbol.hasInstance) return hasInstance;
      return Reflect.get(target, key, receiver);
    },
  }) as Callable<C>;
  Object.defineProperty(cls.prototype, 'constructor', { value: front, writable: true, configurable: true, enumerable: false });
  return front;
}
