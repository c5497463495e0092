// callable.ts - node:net's Socket and Server are plain constructor functions,
// so `net.Socket()` and `net.Server(listener)` work without `new` (Node's own
// tests and older code call them that way). An ES class cannot be called, so
// the public name is a small named function in front of the class that always
// constructs it, with the caller's new.target when there is one (a subclass's
// `super()`). Prototype, statics and `instance.constructor` all lead to the
// public function.

type AnyClass = abstract new (...args: never[]) => unknown;
export type Callable<C extends AnyClass> = C & ((...args: ConstructorParameters<C>) => InstanceType<C>);

/** Makes `front` (which calls Reflect.construct(cls, args, new.target ?? front)) stand for `cls`. */
export function callableClass<C extends AnyClass>(cls: C, front: (...args: never[]) => unknown, length: number): Callable<C> {
  Object.defineProperty(front, 'length', { value: length });
  Object.setPrototypeOf(front, cls); // statics, and Duplex's or EventEmitter's behind them
  front.prototype = cls.prototype;
  Object.defineProperty(cls.prototype, 'constructor', { value: front, writable: true, configurable: true, enumerable: false });
  return front as unknown as Callable<C>;
}
