// Where each state and arrow of a statechart goes on the inspector page: a
// small layered layout (the Sugiyama recipe dagre uses, cut to what these
// charts need), done once here so the page only draws it. States are boxes,
// compound states containers laid out the same way inside; every transition is
// an arrow through its label, which takes a place of its own in the layers so
// labels never sit on one another; a self-transition (or one from a container
// into its own child) is a loop on the box's right.
import type { Chart, ChartEdge, ChartState } from './statechart-model.js';

/** Labels and names are drawn in a monospace font of these sizes, so widths are known here. */
export const LABEL_FONT_PX = 10;
export const NAME_FONT_PX = 11;
const CHAR_RATIO = 0.61;
const LABEL_LINE = 12;
const LEAF_HEIGHT = 24;
const TITLE = 18;
const PAD = 10;
const NODE_GAP = 18;
const VIRTUAL_GAP = 10;
const ROW_GAP = 10;
const LOOP_OUT = 16;
const DUMMY_WIDTH = 8;

export interface StateBox {
  id: string;
  path: string;
  key: string;
  x: number;
  y: number;
  width: number;
  height: number;
  compound: boolean;
  final: boolean;
  initial: boolean;
}

export interface EdgeShape extends ChartEdge {
  /** SVG path data, from the source box's border to the target box's border. */
  d: string;
  /** The label's lines (an event and its guard), centred on (labelX, labelY) unless `loop`. */
  lines: string[];
  labelX: number;
  labelY: number;
  /** A loop's label starts at labelX (left-aligned) beside the box. */
  loop: boolean;
}

export interface ChartLayout {
  width: number;
  height: number;
  /** Containers before what they contain. */
  states: StateBox[];
  /** In the order of the chart's edges. */
  edges: EdgeShape[];
}

interface Point {
  x: number;
  y: number;
}

const textWidth = (text: string, fontPx: number) => Math.ceil(text.length * fontPx * CHAR_RATIO);
/** `SIGNAL [isSignal SIGHUP]` on two lines: the event, then its guard. */
export const labelLines = (label: string) => {
  const guard = label.indexOf(' [');
  return guard > 0 ? [label.slice(0, guard), label.slice(guard + 1)] : [label];
};
const labelSize = (label: string) => {
  const lines = labelLines(label);
  return { width: Math.max(...lines.map((line) => textWidth(line, LABEL_FONT_PX))) + 6, height: lines.length * LABEL_LINE };
};

/** One thing placed in a row of a container: a state, an arrow's label, or a point an arrow passes. */
interface Item {
  kind: 'state' | 'label' | 'dummy';
  state?: ChartState;
  edge?: number;
  width: number;
  height: number;
  row: number;
  order: number;
  x: number;
  y: number;
  up: Item[];
  down: Item[];
}

interface Placed {
  /** Relative to the parent's content box, then made absolute. */
  x: number;
  y: number;
  boxWidth: number;
  boxHeight: number;
  /** With the loops' room on the right. */
  width: number;
  height: number;
}

export function layoutStatechart(chart: Chart): ChartLayout {
  const byId = new Map<string, ChartState>();
  const parent = new Map<string, ChartState>();
  const walk = (state: ChartState) => {
    byId.set(state.id, state);
    for (const child of state.children) {
      parent.set(child.id, state);
      walk(child);
    }
  };
  walk(chart.root);
  const ancestry = (id: string) => {
    const chain: string[] = [];
    for (let state: ChartState | undefined = byId.get(id); state; state = parent.get(state.id)) chain.unshift(state.id);
    return chain;
  };

  // Each edge is drawn in the deepest container holding both ends (as a layered edge between the
  // two children of it they lie in), or as a loop on a box when that child is the same.
  const layered = new Map<string, { edge: number; from: string; to: string }[]>();
  const loops = new Map<string, number[]>();
  chart.edges.forEach((edge, index) => {
    const from = ancestry(edge.from);
    const to = ancestry(edge.to);
    let depth = 0;
    while (depth + 1 < from.length - 1 && depth + 1 < to.length - 1 && from[depth + 1] === to[depth + 1]) depth += 1;
    const container = from[depth];
    const liftedFrom = from[depth + 1];
    const liftedTo = to[depth + 1];
    if (liftedFrom === liftedTo) {
      const on = edge.from === edge.to ? edge.from : (from.length < to.length ? edge.from : edge.to);
      loops.set(on, [...(loops.get(on) ?? []), index]);
    } else {
      layered.set(container, [...(layered.get(container) ?? []), { edge: index, from: liftedFrom, to: liftedTo }]);
    }
  });

  const placed = new Map<string, Placed>();
  const chains = new Map<number, { items: Item[]; reversed: boolean }>();
  const itemsOf = new Map<string, Item[]>();

  const loopRoom = (id: string) => {
    const mine = loops.get(id) ?? [];
    if (mine.length === 0) return { width: 0, height: 0 };
    const sizes = mine.map((index) => labelSize(chart.edges[index].label));
    return { width: LOOP_OUT + 4 + Math.max(...sizes.map((size) => size.width)), height: sizes.reduce((sum, size) => sum + size.height + 6, 6) };
  };

  /** Sizes `state` (its children first) and places its children inside it. */
  const measure = (state: ChartState): Placed => {
    const room = loopRoom(state.id);
    let boxWidth: number;
    let boxHeight: number;
    if (state.children.length === 0) {
      boxWidth = textWidth(state.key, NAME_FONT_PX) + 20;
      boxHeight = Math.max(LEAF_HEIGHT, room.height);
    } else {
      for (const child of state.children) placed.set(child.id, measure(child));
      const content = layoutContainer(state);
      boxWidth = Math.max(textWidth(state.key, NAME_FONT_PX) + 2 * PAD, content.width + 2 * PAD);
      boxHeight = Math.max(TITLE + content.height + PAD, room.height);
    }
    return { x: 0, y: 0, boxWidth, boxHeight, width: boxWidth + room.width, height: boxHeight };
  };

  /** The layered layout of a container's children; returns the size of its content. */
  const layoutContainer = (container: ChartState): { width: number; height: number } => {
    const children = container.children;
    const edges = layered.get(container.id) ?? [];
    const initial = container.initial;
    // Ranks: the initial child on top, arrows that close a cycle (or come back to the initial child) reversed.
    const reversed = new Set<number>();
    const state = new Map<string, 'open' | 'done'>();
    const visit = (id: string) => {
      state.set(id, 'open');
      for (const edge of edges) {
        if (edge.from !== id) continue;
        if (edge.to === initial || state.get(edge.to) === 'open') reversed.add(edge.edge);
        else if (!state.has(edge.to)) visit(edge.to);
      }
      state.set(id, 'done');
    };
    const roots = initial ? [initial, ...children.map((child) => child.id).filter((id) => id !== initial)] : children.map((child) => child.id);
    for (const id of roots) if (!state.has(id)) visit(id);
    const forward = edges.map((edge) => (reversed.has(edge.edge) ? { ...edge, from: edge.to, to: edge.from } : edge));
    const rank = new Map(children.map((child) => [child.id, 0]));
    for (let pass = 0; pass < children.length; pass++) {
      for (const edge of forward) rank.set(edge.to, Math.max(rank.get(edge.to)!, rank.get(edge.from)! + 1));
    }

    // Rows: states on even rows; each arrow's label, and the points a long arrow passes, on the rows between.
    const items: Item[] = [];
    const make = (kind: Item['kind'], row: number, width: number, height: number, extra: Partial<Item> = {}): Item => {
      const item: Item = { kind, width, height, row, order: items.length, x: 0, y: 0, up: [], down: [], ...extra };
      items.push(item);
      return item;
    };
    const stateItem = new Map<string, Item>();
    for (const child of children) {
      const size = placed.get(child.id)!;
      stateItem.set(child.id, make('state', 2 * rank.get(child.id)!, size.width, size.height, { state: child }));
    }
    for (const edge of forward) {
      const top = 2 * rank.get(edge.from)!;
      const bottom = 2 * rank.get(edge.to)!;
      const labelRow = 2 * Math.floor((top + bottom) / 4) + 1;
      const chain: Item[] = [];
      let previous = stateItem.get(edge.from)!;
      for (let row = top + 1; row < bottom; row++) {
        const size = labelSize(chart.edges[edge.edge].label);
        const item = row === labelRow ? make('label', row, size.width, size.height, { edge: edge.edge }) : make('dummy', row, DUMMY_WIDTH, 0, { edge: edge.edge });
        previous.down.push(item);
        item.up.push(previous);
        chain.push(item);
        previous = item;
      }
      const last = stateItem.get(edge.to)!;
      previous.down.push(last);
      last.up.push(previous);
      chains.set(edge.edge, { items: chain, reversed: reversed.has(edge.edge) });
    }
    itemsOf.set(container.id, items);

    const rowCount = Math.max(0, ...items.map((item) => item.row)) + 1;
    const rows: Item[][] = Array.from({ length: rowCount }, () => []);
    for (const item of items) rows[item.row].push(item);
    const renumber = (row: Item[]) => row.forEach((item, order) => (item.order = order));
    rows.forEach(renumber);

    // Order within rows: a few sweeps of the barycentre heuristic.
    const barycentre = (item: Item, neighbours: Item[]) => (neighbours.length === 0 ? item.order : neighbours.reduce((sum, other) => sum + other.order, 0) / neighbours.length);
    for (let sweep = 0; sweep < 6; sweep++) {
      const down = sweep % 2 === 0;
      const sequence = down ? rows.slice(1) : rows.slice(0, -1).reverse();
      for (const row of sequence) {
        const keyed = row.map((item) => ({ item, key: barycentre(item, down ? item.up : item.down) }));
        keyed.sort((a, b) => a.key - b.key || a.item.order - b.item.order);
        row.splice(0, row.length, ...keyed.map(({ item }) => item));
        renumber(row);
      }
    }

    // Horizontal places: each item as near as it can be to the middle of its neighbours, rows kept in order.
    const gapAfter = (item: Item) => (item.kind === 'state' ? NODE_GAP : VIRTUAL_GAP);
    for (const row of rows) {
      let x = 0;
      for (const item of row) {
        item.x = x;
        x += item.width + gapAfter(item);
      }
    }
    const centre = (item: Item) => item.x + item.width / 2;
    for (let pass = 0; pass < 8; pass++) {
      const sequence = pass % 2 === 0 ? rows : rows.slice().reverse();
      for (const row of sequence) {
        const wanted = row.map((item) => {
          const neighbours = [...item.up, ...item.down];
          return neighbours.length === 0 ? item.x : neighbours.reduce((sum, other) => sum + centre(other), 0) / neighbours.length - item.width / 2;
        });
        placeInOrder(row, wanted, gapAfter);
      }
    }
    const left = Math.min(0, ...items.map((item) => item.x));
    for (const item of items) item.x -= left;

    // Vertical places: rows one under the other, each item centred in its row.
    let y = 0;
    for (const row of rows) {
      if (row.length === 0) continue;
      const height = Math.max(...row.map((item) => item.height));
      for (const item of row) item.y = y + (height - item.height) / 2;
      y += height + ROW_GAP;
    }
    for (const [id, item] of stateItem) {
      const box = placed.get(id)!;
      box.x = item.x;
      box.y = item.y;
    }
    return { width: Math.max(0, ...items.map((item) => item.x + item.width)), height: Math.max(0, y - ROW_GAP) };
  };

  measure(chart.root);

  // Absolute positions: each container's content starts under its title.
  const states: StateBox[] = [];
  const boxes = new Map<string, StateBox>();
  const origin = new Map<string, Point>();
  const place = (state: ChartState, offset: Point) => {
    origin.set(state.id, { x: offset.x + PAD, y: offset.y + TITLE });
    for (const child of state.children) {
      const relative = placed.get(child.id)!;
      const box: StateBox = {
        id: child.id,
        path: child.path,
        key: child.key,
        x: offset.x + PAD + relative.x,
        y: offset.y + TITLE + relative.y,
        width: relative.boxWidth,
        height: relative.boxHeight,
        compound: child.children.length > 0,
        final: child.final,
        initial: state.initial === child.id,
      };
      states.push(box);
      boxes.set(child.id, box);
      place(child, { x: box.x, y: box.y });
    }
    for (const item of itemsOf.get(state.id) ?? []) {
      item.x += offset.x + PAD;
      item.y += offset.y + TITLE;
    }
  };
  // The root is not drawn as a box: its content starts near the corner (room on the sides for arrows that swing out).
  place(chart.root, { x: -PAD + 16, y: -TITLE + 4 });

  const edges: EdgeShape[] = chart.edges.map((edge, index) => {
    const from = boxes.get(edge.from);
    const to = boxes.get(edge.to);
    const lines = labelLines(edge.label);
    if (!from || !to) return { ...edge, d: '', lines, labelX: 0, labelY: 0, loop: false };
    const chain = chains.get(index);
    if (chain) {
      const waypoints = (chain.reversed ? chain.items.slice().reverse() : chain.items).map((item) => ({ x: item.x + item.width / 2, y: item.y + item.height / 2 }));
      const label = chain.items.find((item) => item.kind === 'label')!;
      const start = borderPoint(from, waypoints[0]);
      const end = borderPoint(to, waypoints[waypoints.length - 1]);
      return { ...edge, d: smoothPath([start, ...waypoints, end]), lines, labelX: label.x + label.width / 2, labelY: label.y + label.height / 2, loop: false };
    }
    // A loop on the box whose loops these are: slots down its right side.
    const owner = loops.has(edge.from) && loops.get(edge.from)!.includes(index) ? from : to;
    const mine = loops.get(owner.id)!;
    const sizes = mine.map((other) => labelSize(chart.edges[other].label).height + 6);
    const total = sizes.reduce((sum, size) => sum + size, 0);
    let slotY = owner.y + (owner.height - total) / 2;
    for (let slot = 0; slot < mine.indexOf(index); slot++) slotY += sizes[slot];
    const y = slotY + sizes[mine.indexOf(index)] / 2;
    const right = owner.x + owner.width;
    const labelX = right + LOOP_OUT + 4;
    if (from === to) {
      const d = `M${right},${round(y - 4)} C${right + LOOP_OUT},${round(y - 12)} ${right + LOOP_OUT},${round(y + 12)} ${right},${round(y + 4)}`;
      return { ...edge, d, lines, labelX, labelY: y, loop: true };
    }
    // From a container into its own child (or back out): leaves the container's right border at its slot.
    const inner = owner === from ? to : from;
    const entry = { x: inner.x + inner.width, y: inner.y + inner.height / 2 };
    const points = owner === from ? [{ x: right, y }, { x: right - LOOP_OUT, y }, entry] : [entry, { x: right - LOOP_OUT, y }, { x: right, y }];
    return { ...edge, d: smoothPath(points), lines, labelX, labelY: y, loop: true };
  });

  // The picture's extent: every box with its loops' labels, every arrow's label.
  const right = [
    ...states.map((box) => box.x + placed.get(box.id)!.width),
    ...edges.map((edge) => edge.labelX + (edge.loop ? labelSize(edge.label).width : labelSize(edge.label).width / 2)),
  ];
  const bottom = [...states.map((box) => box.y + box.height), ...edges.map((edge) => edge.labelY + labelSize(edge.label).height / 2)];
  return { width: Math.ceil(Math.max(0, ...right)) + 16, height: Math.ceil(Math.max(0, ...bottom)) + 4, states, edges };
}

/**
 * Places a row's items, in their order and apart by their gaps, as near as they can be (least
 * squares) to where they want to be: touching items move as a block to the mean of their wishes.
 */
function placeInOrder(row: Item[], wanted: number[], gapAfter: (item: Item) => number) {
  interface Block {
    first: number;
    last: number;
    /** Sum of (wanted x − offset in the block), and how many. */
    sum: number;
    count: number;
    width: number;
    x: number;
  }
  const blocks: Block[] = [];
  row.forEach((item, index) => {
    let block: Block = { first: index, last: index, sum: wanted[index], count: 1, width: item.width, x: wanted[index] };
    for (;;) {
      const previous = blocks[blocks.length - 1];
      if (!previous || previous.x + previous.width + gapAfter(row[previous.last]) <= block.x) break;
      blocks.pop();
      const shift = previous.width + gapAfter(row[previous.last]);
      const sum = previous.sum + block.sum - block.count * shift;
      const count = previous.count + block.count;
      block = { first: previous.first, last: block.last, sum, count, width: shift + block.width, x: sum / count };
    }
    blocks.push(block);
  });
  for (const block of blocks) {
    let x = block.x;
    for (let index = block.first; index <= block.last; index++) {
      row[index].x = x;
      x += row[index].width + gapAfter(row[index]);
    }
  }
}

const round = (value: number) => Math.round(value * 10) / 10;

/** Where the line from the box's centre toward `toward` crosses the box's border. */
function borderPoint(box: { x: number; y: number; width: number; height: number }, toward: Point): Point {
  const centre = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const dx = toward.x - centre.x;
  const dy = toward.y - centre.y;
  if (dx === 0 && dy === 0) return { x: centre.x, y: box.y + box.height };
  const scale = Math.min(dx === 0 ? Infinity : box.width / 2 / Math.abs(dx), dy === 0 ? Infinity : box.height / 2 / Math.abs(dy));
  return { x: centre.x + dx * scale, y: centre.y + dy * scale };
}

/** A smooth curve through the points (Catmull-Rom, as cubic Béziers). */
function smoothPath(points: Point[]): string {
  let d = `M${round(points[0].x)},${round(points[0].y)}`;
  for (let index = 0; index < points.length - 1; index++) {
    const p0 = points[index - 1] ?? points[index];
    const p1 = points[index];
    const p2 = points[index + 1];
    const p3 = points[index + 2] ?? p2;
    const c1 = { x: p1.x + (p2.x - p0.x) / 6, y: p1.y + (p2.y - p0.y) / 6 };
    const c2 = { x: p2.x - (p3.x - p1.x) / 6, y: p2.y - (p3.y - p1.y) / 6 };
    d += ` C${round(c1.x)},${round(c1.y)} ${round(c2.x)},${round(c2.y)} ${round(p2.x)},${round(p2.y)}`;
  }
  return d;
}
