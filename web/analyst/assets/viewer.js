// The version page: the diagram in bpmn-js's viewer, with statistics per element.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import { duration, el } from './common.js';

async function show(root) {
  const status = root.querySelector('.diagram-status');
  const viewer = new NavigatedViewer({ container: root.querySelector('.canvas') });
  try {
    const xml = await (await fetch(root.dataset.xmlUrl, { credentials: 'same-origin' })).text();
    await viewer.importXML(xml);
    viewer.get('canvas').zoom('fit-viewport');
  } catch (err) {
    status.textContent = `The diagram cannot be shown: ${err.message}`;
    return;
  }
  if (root.dataset.markersUrl) await markElements(viewer, root.dataset.markersUrl, status);
  if (!root.dataset.statisticsUrl) return;
  const response = await fetch(root.dataset.statisticsUrl, { credentials: 'same-origin' });
  if (!response.ok) {
    status.textContent = 'Statistics are not available.';
    return;
  }
  const { elements } = await response.json();
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  let shown = 0;
  for (const item of elements) {
    if (!registry.get(item.element)) continue;
    const badges = [];
    if (item.now) badges.push(el('span', { class: 'stat-now', title: 'instances there now', text: `${item.now} now` }));
    if (item.passed && item.breaches === null) {
      const times = item.median_seconds === null ? '' : ` · ${duration(item.median_seconds)} / p90 ${duration(item.p90_seconds)}`;
      badges.push(el('span', { class: 'stat-passed', title: 'passed in the period; median and 90th percentile time spent', text: `${item.passed} passed${times}` }));
    }
    if (item.breaches) badges.push(el('span', { class: 'stat-breach', title: 'SLA breaches: the timer fired', text: `SLA ${item.breaches}` }));
    if (!badges.length) continue;
    overlays.add(item.element, 'tf-statistics', {
      position: { bottom: 4, left: 0 },
      html: el('div', { class: 'tf-stats', 'data-element': item.element }, badges),
    });
    shown += 1;
  }
  status.textContent = shown ? '' : 'No instance was at or passed an element in this period.';
}

// The admin's instance page: completed elements in green, the current ones in blue.
async function markElements(viewer, url, status) {
  const response = await fetch(url, { credentials: 'same-origin' });
  if (!response.ok) {
    status.textContent = 'Where the instance stands is not available.';
    return;
  }
  const { completed, active } = await response.json();
  const canvas = viewer.get('canvas');
  const registry = viewer.get('elementRegistry');
  for (const [ids, marker] of [[completed, 'tf-completed'], [active, 'tf-active']]) {
    for (const id of ids) if (registry.get(id)) canvas.addMarker(id, marker);
  }
  status.textContent = '';
}

const root = document.getElementById('diagram');
if (root) show(root);
