// The inspector's picture of each documented chart: boxes that do not overlap
// (a child inside its container), labels that do not sit on one another or on a
// box, an arrow for every edge, everything inside the picture.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { documentedMachines } from '../../src/inspector/documented-machines.js';
import { describeStatechart } from '../../src/inspector/statechart-model.js';
import { LABEL_FONT_PX, labelLines, layoutStatechart } from '../../src/inspector/statechart-layout.js';

type Rect = { x: number; y: number; width: number; height: number };
const overlap = (a: Rect, b: Rect) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const inside = (inner: Rect, outer: Rect) => inner.x >= outer.x && inner.y >= outer.y && inner.x + inner.width <= outer.x + outer.width && inner.y + inner.height <= outer.y + outer.height;

for (const { title, machine } of documentedMachines) {
  test(`${title}: boxes apart, labels apart, an arrow for every edge`, () => {
    const chart = describeStatechart(machine);
    const layout = layoutStatechart(chart);
    const byId = new Map(layout.states.map((box) => [box.id, box]));
    const parentOf = (id: string) => id.split('.').slice(0, -1).join('.');
    const states = layout.states;
    for (const box of states) {
      const parent = byId.get(parentOf(box.id));
      if (parent) assert.ok(inside(box, parent), `${box.id} inside ${parent.id}`);
      assert.ok(inside(box, { x: 0, y: 0, width: layout.width, height: layout.height }), `${box.id} inside the picture`);
      for (const other of states) {
        if (other === box || parentOf(other.id) !== parentOf(box.id)) continue;
        assert.not.ok(overlap(box, other), `${box.id} and ${other.id} overlap`);
      }
    }
    assert.is(layout.edges.length, chart.edges.length);
    const labels = layout.edges.map((edge) => {
      const width = Math.max(...edge.lines.map((line) => line.length)) * LABEL_FONT_PX * 0.6;
      const height = edge.lines.length * 12;
      return { edge, rect: { x: edge.loop ? edge.labelX : edge.labelX - width / 2, y: edge.labelY - height / 2, width, height } };
    });
    for (const [index, { edge, rect }] of labels.entries()) {
      assert.equal(edge.lines, labelLines(edge.label));
      assert.match(edge.d, /^M[\d.-]+,[\d.-]+( C[\d.-]+,[\d.-]+ [\d.-]+,[\d.-]+ [\d.-]+,[\d.-]+)+$/, `${edge.label}: a path`);
      assert.ok(inside(rect, { x: 0, y: 0, width: layout.width, height: layout.height }), `${edge.label} inside the picture`);
      for (const { edge: other, rect: otherRect } of labels.slice(index + 1)) assert.not.ok(overlap(rect, otherRect), `labels ${edge.label} and ${other.label} overlap`);
      for (const box of states) if (!box.compound) assert.not.ok(overlap(rect, box), `label ${edge.label} on state ${box.id}`);
    }
  });
}

test.run();
