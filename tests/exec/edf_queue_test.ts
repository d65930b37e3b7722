import { assert, assertEquals } from "@std/assert";
import { type EdfEntry, EdfQueue, runsBefore } from "../../src/exec/_edf_queue.ts";
import { mulberry32, testSeeds } from "../_util/prng.ts";

interface Entry extends EdfEntry {
  id: number;
}

/** The reference model: a list kept sorted by the EDF order. */
function sortedModel(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => (runsBefore(a, b) ? -1 : runsBefore(b, a) ? 1 : 0));
}

Deno.test("runsBefore() orders by earlier deadline, then higher priority, then earlier release", () => {
  const e = (deadline: number, priority: number, seq: number): EdfEntry => ({
    deadline,
    priority,
    seq,
    heapIndex: -1,
  });
  assert(runsBefore(e(1, 0, 9), e(2, 9, 0)), "deadline first");
  assert(runsBefore(e(5, 2, 9), e(5, 1, 0)), "then priority, higher first");
  assert(runsBefore(e(5, 1, 3), e(5, 1, 4)), "then release order");
  assert(!runsBefore(e(5, 1, 4), e(5, 1, 4)), "an entry does not run before itself");
  assert(runsBefore(e(5, 0, 1), e(Infinity, 0, 0)), "an infinite deadline runs last");
});

Deno.test("EdfQueue matches a sorted-list model under random push, pop and removal from the middle", () => {
  for (const seed of testSeeds([1, 2, 3, 42, 2024, 0xc0ffee])) {
    const random = mulberry32(seed);
    const queue = new EdfQueue<Entry>();
    let model: Entry[] = [];
    let seq = 0;
    let id = 0;
    const context = () => `seed ${seed} (replay with CHRONETIX_SEED=${seed})`;
    for (let step = 0; step < 4000; step++) {
      const r = random();
      if (r < 0.45 || model.length === 0) {
        // Few distinct deadlines and priorities, so ties are common.
        const entry: Entry = {
          id: id++,
          deadline: random() < 0.05 ? Infinity : Math.floor(random() * 8),
          priority: Math.floor(random() * 3) - 1,
          seq: seq++,
          heapIndex: -1,
        };
        queue.push(entry);
        model.push(entry);
      } else if (r < 0.75) {
        const expected = sortedModel(model)[0]!;
        const got = queue.pop();
        assertEquals(got?.id, expected.id, context());
        assertEquals(got!.heapIndex, -1, context());
        model = model.filter((e) => e !== expected);
      } else {
        // Drop-oldest and cancel remove a task's ready entry wherever it sits.
        const victim = model[Math.floor(random() * model.length)]!;
        assertEquals(queue.remove(victim), true, context());
        assertEquals(victim.heapIndex, -1, context());
        assertEquals(queue.remove(victim), false, `${context()}: removed twice`);
        model = model.filter((e) => e !== victim);
      }
      assertEquals(queue.size, model.length, context());
      assertEquals(queue.peek()?.id, sortedModel(model)[0]?.id, context());
    }
    const drained: number[] = [];
    for (let e = queue.pop(); e !== undefined; e = queue.pop()) drained.push(e.id);
    assertEquals(drained, sortedModel(model).map((e) => e.id), context());
  }
});

Deno.test("EdfQueue.remove() sifts the moved last entry up when it runs before the hole's parent", () => {
  const queue = new EdfQueue<Entry>();
  const byDeadline = new Map<number, Entry>();
  // Pushed in this order the heap array is [0, 10, 1, 11, 12, 2, 3]: removing 11
  // (index 3) moves 3 (the last entry) under 10, so it must go up.
  for (const [i, deadline] of [0, 10, 1, 11, 12, 2, 3].entries()) {
    const entry: Entry = { id: deadline, deadline, priority: 0, seq: i, heapIndex: -1 };
    byDeadline.set(deadline, entry);
    queue.push(entry);
  }
  assertEquals(byDeadline.get(11)!.heapIndex, 3);
  assertEquals(queue.remove(byDeadline.get(11)!), true);
  assertEquals(byDeadline.get(3)!.heapIndex, 1, "3 moved up into 10's place");
  assertEquals(queue.remove(byDeadline.get(10)!), true, "10's position was kept up to date");
  const order: number[] = [];
  for (let e = queue.pop(); e !== undefined; e = queue.pop()) order.push(e.deadline);
  assertEquals(order, [0, 1, 2, 3, 12]);
});

Deno.test("EdfQueue.pop() and peek() return undefined when empty", () => {
  const queue = new EdfQueue();
  assertEquals(queue.pop(), undefined);
  assertEquals(queue.peek(), undefined);
  assertEquals(queue.remove({ deadline: 0, priority: 0, seq: 0, heapIndex: -1 }), false);
  assertEquals(queue.size, 0);
});
