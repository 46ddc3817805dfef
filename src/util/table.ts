// Lookup tables that are safe to index with strings from input. A plain object literal inherits from
// Object.prototype, so TABLE["toString"] or TABLE["constructor"] is a function, not undefined: a rule
// such as `-m toString` or a line starting with `constructor` would be misread. These have no prototype.

export function table<T>(entries: Record<string, T>): Readonly<Record<string, T>> {
  return Object.freeze(Object.assign(Object.create(null) as Record<string, T>, entries));
}
