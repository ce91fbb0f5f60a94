// One reading of an XState v5 machine's definition: its states (nested), the
// transitions that change state, and the events handled in place. diagrams/
// (Mermaid) and the live inspector (HTML) are both drawn from it, so the
// picture in the repository and the one in the browser cannot drift apart.
import type { AnyStateMachine } from 'xstate';

interface Node {
  id: string;
  key: string;
  type: string;
  states: Record<string, Node>;
  initial?: { target: Node[] };
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  invoke: { id: string; src: unknown }[];
}

interface Transition {
  eventType: string;
  target?: Node[];
  guard?: unknown;
}

export interface ChartState {
  /** The machine's own id for it: `arbiter.serving.steady`. */
  id: string;
  key: string;
  /** As a snapshot's value names it, without the machine id: `serving.steady`; '' for the machine itself. */
  path: string;
  final: boolean;
  /** id of the initial child, for compound states. */
  initial?: string;
  children: ChartState[];
}

export interface ChartEdge {
  from: string;
  to: string;
  label: string;
  /** The event type as XState names it ('' for an eventless transition): what a live snapshot's event is matched to. */
  event: string;
}

export interface Chart {
  id: string;
  root: ChartState;
  edges: ChartEdge[];
  /** Events a state handles without leaving it (actions only), which have no arrow. */
  inPlace: { state: string; event: string }[];
}

function eventLabel(node: Node, eventType: string): string {
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]}`;
  const actor = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (actor) {
    const invoked = node.invoke.find((invoke) => invoke.id === actor[2]);
    const name = typeof invoked?.src === 'string' ? invoked.src : actor[2];
    return `${name} ${actor[1] === 'done' ? 'done' : 'failed'}`;
  }
  return eventType;
}

function guardLabel(guard: unknown): string {
  if (!guard) return '';
  if (typeof guard === 'string') return ` [${guard}]`;
  const { type, params } = guard as { type?: unknown; params?: unknown };
  if (typeof type !== 'string') return ' [guarded]';
  // Literal params tell guards of one type apart: isSignal SIGHUP vs isSignal SIGTTIN.
  const literal = params && typeof params === 'object' ? Object.values(params).filter((value) => typeof value === 'string' || typeof value === 'number') : [];
  return literal.length > 0 ? ` [${type} ${literal.join(' ')}]` : ` [${type}]`;
}

const pathOf = (node: Node) => node.id.split('.').slice(1).join('.');

function stateOf(node: Node): ChartState {
  return {
    id: node.id,
    key: node.key,
    path: pathOf(node),
    final: node.type === 'final',
    initial: node.initial?.target?.[0]?.id,
    children: Object.values(node.states).map(stateOf),
  };
}

function allNodes(node: Node): Node[] {
  return [node, ...Object.values(node.states).flatMap(allNodes)];
}

/** A transition as XState reports it taken (an inspection microstep's `_transitions`). */
export interface TakenTransition {
  source: Node;
  target?: Node[];
  eventType: string;
  guard?: unknown;
}

/** The taken transition as the chart's edges name it: its source's id, its targets' ids, its label. */
export function describeTaken(transition: TakenTransition): { from: string; to: string[]; label: string } {
  return { from: transition.source.id, to: (transition.target ?? []).map((node) => node.id), label: labelOf(transition.source, transition) };
}

const labelOf = (node: Node, transition: Transition) => `${transition.eventType ? eventLabel(node, transition.eventType) : 'always'}${guardLabel(transition.guard)}`;

/** Transitions that change state, from each of `from`; self re-entries (timers restarting) are loops. */
function edgesOf(node: Node, from: Node[]): ChartEdge[] {
  const edges: ChartEdge[] = [];
  const all: Transition[] = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
  for (const transition of all) {
    if (!transition.target?.length) continue;
    const label = labelOf(node, transition);
    for (const source of from) for (const target of transition.target) edges.push({ from: source.id, to: target.id, label, event: transition.eventType });
  }
  return edges;
}

export function describeStatechart(machine: AnyStateMachine): Chart {
  const root = machine.root as unknown as Node;
  // Transitions declared on the machine itself apply in every top-level state that is not final.
  const topLevel = Object.values(root.states).filter((child) => child.type !== 'final');
  const edges = [...edgesOf(root, topLevel), ...allNodes(root).slice(1).flatMap((node) => edgesOf(node, [node]))];
  const inPlace: Chart['inPlace'] = [];
  for (const node of allNodes(root)) {
    for (const transition of [...node.transitions.values()].flat()) {
      if (transition.target?.length) continue;
      inPlace.push({ state: node === root ? '(every state)' : pathOf(node), event: `${eventLabel(node, transition.eventType)}${guardLabel(transition.guard)}` });
    }
  }
  return { id: root.id, root: stateOf(root), edges, inPlace };
}

/** A snapshot value as the dotted path of its active leaf: { serving: 'steady' } → 'serving.steady' (parallel regions joined with ','). */
export function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  return Object.entries((value ?? {}) as Record<string, unknown>)
    .map(([key, inner]) => `${key}.${stateText(inner)}`)
    .join(',');
}
