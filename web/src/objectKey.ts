/**
 * React keys for objects that carry no id of their own (entries of a shared Yjs array): the same object
 * always gets the same key, so a row keeps its state when a concurrent insert shifts the positions.
 */
const keys = new WeakMap<object, number>();
let next = 0;

export function objectKey(value: object): number {
  let key = keys.get(value);
  if (key === undefined) {
    key = next++;
    keys.set(value, key);
  }
  return key;
}
