/**
 * Bounds on the shape of any procedure's input, checked before its schema: zod caps each known
 * field, but strips unknown keys only after walking them, and a body can nest or repeat without
 * end. Inputs of this API are small; anything past these is refused with a plain message.
 */
export const INPUT_LIMITS = { maxDepth: 8, maxValues: 2_000, maxString: 10_000 } as const;

/** Why `input` is out of bounds, or null. Stops at the first problem: never walks more than the limit. */
export function inputProblem(input: unknown, limits: typeof INPUT_LIMITS = INPUT_LIMITS): string | null {
  let values = 0;
  const stack: { value: unknown; depth: number }[] = [{ value: input, depth: 0 }];
  while (stack.length) {
    const { value, depth } = stack.pop()!;
    if (++values > limits.maxValues) return `the request holds more than ${limits.maxValues} values`;
    if (typeof value === "string") {
      if (value.length > limits.maxString) return `a text in the request is longer than ${limits.maxString} characters`;
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (depth >= limits.maxDepth) return `the request nests deeper than ${limits.maxDepth} levels`;
    if (Array.isArray(value)) {
      if (values + stack.length + value.length > limits.maxValues) return `the request holds more than ${limits.maxValues} values`;
      for (const item of value) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (key.length > limits.maxString) return `a key in the request is longer than ${limits.maxString} characters`;
      stack.push({ value: (value as Record<string, unknown>)[key], depth: depth + 1 });
      // Counted as pushed: an object with a million keys is refused without pushing them all.
      if (stack.length + values > limits.maxValues) return `the request holds more than ${limits.maxValues} values`;
    }
  }
  return null;
}
