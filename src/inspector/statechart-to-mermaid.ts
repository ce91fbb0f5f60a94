// Draws a statechart (see statechart-model.ts) as a Mermaid state diagram: diagrams/.
import type { AnyStateMachine } from 'xstate';
import { type ChartState, describeStatechart } from './statechart-model.js';

/** Mermaid ids cannot contain dots. */
const mermaidId = (id: string) => id.replace(/[^\w]/g, '_');

function renderState(state: ChartState, indent: string): string[] {
  const lines: string[] = [];
  if (state.final || state.children.length === 0) return lines;
  if (state.initial) lines.push(`${indent}[*] --> ${mermaidId(state.initial)}`);
  for (const child of state.children) {
    lines.push(`${indent}state "${child.key}" as ${mermaidId(child.id)}`);
    if (child.children.length > 0) {
      lines.push(`${indent}state ${mermaidId(child.id)} {`);
      lines.push(...renderState(child, `${indent}  `));
      lines.push(`${indent}}`);
    }
  }
  for (const child of state.children) if (child.final) lines.push(`${indent}${mermaidId(child.id)} --> [*]`);
  return lines;
}

/** Events a state handles without leaving it, which a state diagram has no arrow for: listed beside it. */
export const eventsHandledInPlace = (machine: AnyStateMachine) => describeStatechart(machine).inPlace;

export function statechartToMermaid(machine: AnyStateMachine): string {
  const chart = describeStatechart(machine);
  const lines = ['stateDiagram-v2', ...renderState(chart.root, '  ')];
  for (const edge of chart.edges) lines.push(`  ${mermaidId(edge.from)} --> ${mermaidId(edge.to)}: ${edge.label}`);
  return `${lines.join('\n')}\n`;
}
