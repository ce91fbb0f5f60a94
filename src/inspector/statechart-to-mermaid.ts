// Draws any XState v5 machine as a Mermaid state diagram, from the machine's
// own definition. diagrams/ and the inspector both use it, so the picture in
// the repository and the one in the browser cannot drift apart.
import type { AnyStateMachine } from 'xstate';

interface Node {
  id: string;
  key: string;
  type: string;
  states: Record<string, Node>;
  parent?: Node;
  initial?: { target: Node[] };
  transitions: Map<string, Transition[]>;
  always?: Transition[];
  invoke: { id: string; src: unknown }[];
}

interface Transition {
  eventType: string;
  target?: Node[];
  guard?: unknown;
  reenter?: boolean;
}

/** Mermaid ids cannot contain dots. */
const mermaidId = (node: Node) => node.id.replace(/[^\w]/g, '_');

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

/** Transitions that change state; self re-entries (timers restarting) are drawn as loops. */
function edges(node: Node, from: Node[]): string[] {
  const lines: string[] = [];
  const all: Transition[] = [...[...node.transitions.values()].flat(), ...(node.always ?? [])];
  for (const transition of all) {
    if (!transition.target?.length) continue;
    const label = `${transition.eventType ? eventLabel(node, transition.eventType) : 'always'}${guardLabel(transition.guard)}`;
    for (const source of from) {
      for (const target of transition.target) lines.push(`${mermaidId(source)} --> ${mermaidId(target)}: ${label}`);
    }
  }
  return lines;
}

function renderNode(node: Node, indent: string): string[] {
  const lines: string[] = [];
  const children = Object.values(node.states);
  if (node.type === 'final') return lines;
  if (children.length === 0) return lines;
  const initial = node.initial?.target?.[0];
  if (initial) lines.push(`${indent}[*] --> ${mermaidId(initial)}`);
  for (const child of children) {
    lines.push(`${indent}state "${child.key}" as ${mermaidId(child)}`);
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state ${mermaidId(child)} {`);
      lines.push(...renderNode(child, `${indent}  `));
      lines.push(`${indent}}`);
    }
  }
  for (const child of children) {
    if (child.type === 'final') lines.push(`${indent}${mermaidId(child)} --> [*]`);
  }
  return lines;
}

function allNodes(node: Node): Node[] {
  return [node, ...Object.values(node.states).flatMap(allNodes)];
}

/**
 * Events a state handles without leaving it (actions only: TTIN, SCALE, a
 * heartbeat…), which a state diagram has no arrow for: listed beside it.
 */
export function eventsHandledInPlace(machine: AnyStateMachine): { state: string; event: string }[] {
  const root = machine.root as unknown as Node;
  const rows: { state: string; event: string }[] = [];
  for (const node of allNodes(root)) {
    for (const transition of [...node.transitions.values()].flat()) {
      if (transition.target?.length) continue;
      const state = node === root ? '(every state)' : node.id.split('.').slice(1).join('.');
      rows.push({ state, event: `${eventLabel(node, transition.eventType)}${guardLabel(transition.guard)}` });
    }
  }
  return rows;
}

export function statechartToMermaid(machine: AnyStateMachine): string {
  const root = machine.root as unknown as Node;
  const lines = ['stateDiagram-v2', ...renderNode(root, '  ')];
  // Transitions declared on the machine itself apply in every top-level state that is not final.
  const topLevel = Object.values(root.states).filter((child) => child.type !== 'final');
  lines.push(...edges(root, topLevel).map((line) => `  ${line}`));
  for (const node of allNodes(root).slice(1)) lines.push(...edges(node, [node]).map((line) => `  ${line}`));
  return `${lines.join('\n')}\n`;
}
