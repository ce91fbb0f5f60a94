// Breadth-first exploration of a statechart over orderings of events: from the
// start, every move the state allows, replayed from scratch (actors cannot be
// copied), each new state (by `keyOf`) checked once and expanded, to `depth`.
export interface Exploration<Harness, Move> {
  depth: number;
  /** A fresh run brought to the end of `path`. */
  replay(path: Move[]): Promise<Harness>;
  /** The moves the run's present state allows. */
  movesOf(harness: Harness): Move[];
  /** What identifies a state for the search. */
  keyOf(harness: Harness): string;
  /** Checks a state reached for the first time (it may replay `path` again to probe its future). */
  check(harness: Harness, path: Move[]): void | Promise<void>;
}

export async function exploreBreadthFirst<Harness, Move>({ depth, replay, movesOf, keyOf, check }: Exploration<Harness, Move>) {
  const seen = new Set<string>();
  let transitions = 0;
  const start = await replay([]);
  seen.add(keyOf(start));
  await check(start, []);
  let frontier: Move[][] = [[]];
  for (let level = 0; level < depth; level += 1) {
    const next: Move[][] = [];
    for (const path of frontier) {
      for (const move of movesOf(await replay(path))) {
        const extended = [...path, move];
        const reached = await replay(extended);
        transitions += 1;
        const key = keyOf(reached);
        if (seen.has(key)) continue;
        seen.add(key);
        await check(reached, extended);
        next.push(extended);
      }
    }
    frontier = next;
  }
  return { states: seen.size, transitions };
}
