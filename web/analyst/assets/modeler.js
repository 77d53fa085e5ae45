// The modeler page: bpmn-js with the Camunda 7 properties panel; validation shown on the
// diagram (Tokenflow's checks from the server plus bpmnlint's recommended rules here);
// deploy, refused while any error remains; a dry run showing the path taken.
import BpmnModeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camundaModdle from 'camunda-bpmn-moddle/resources/camunda.json';
import { Linter } from 'bpmnlint';
import { config as lintConfig, resolver as lintResolver } from 'bpmnlint-config';
import { duration, el, post } from './common.js';

const root = document.getElementById('modeler');
const csrf = root.dataset.csrfToken;
const statusLine = root.querySelector('.modeler-status');
const problemsBox = root.querySelector('.problems');
const problemList = root.querySelector('.problem-list');
const calledLink = root.querySelector('.called-process');
let fileName = root.dataset.fileName;
let dirty = false;
let marked = [];

const modeler = new BpmnModeler({
  container: root.querySelector('.canvas'),
  propertiesPanel: { parent: root.querySelector('.properties') },
  additionalModules: [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
  ],
  moddleExtensions: { camunda: camundaModdle },
});

function say(text, kind = 'info') {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

async function open(xml) {
  const { warnings } = await modeler.importXML(xml);
  modeler.get('canvas').zoom('fit-viewport');
  clearProblems();
  dirty = false;
  say(warnings.length ? `Opened with ${warnings.length} warning(s) from the importer.` : 'Opened.');
}

// -- problems ----------------------------------------------------------------------------

async function lint() {
  // A linter per run: some rules keep state while they walk a diagram.
  const linter = new Linter({ config: lintConfig, resolver: lintResolver });
  const results = await linter.lint(modeler.getDefinitions());
  const found = [];
  for (const [rule, reports] of Object.entries(results)) {
    for (const report of reports) {
      found.push({
        element: report.id || null,
        message: report.message,
        severity: report.category === 'error' || report.category === 'rule-error' ? 'error' : 'warning',
        source: `bpmnlint ${rule}`,
      });
    }
  }
  return found;
}

async function serverCheck(xml) {
  const url = `${root.dataset.checkUrl}?filename=${encodeURIComponent(fileName)}`;
  const answer = await post(url, csrf, xml, 'application/xml');
  if (!answer.ok) throw new Error(answer.data.detail || answer.data.title);
  return answer.data.problems.map((p) => ({
    element: p.element,
    message: p.message,
    severity: p.severity || 'error',
    source: 'Tokenflow',
  }));
}

function clearProblems() {
  const canvas = modeler.get('canvas');
  for (const [id, marker] of marked) canvas.removeMarker(id, marker);
  marked = [];
  modeler.get('overlays').remove({ type: 'tf-problem' });
  problemList.replaceChildren();
  problemsBox.hidden = true;
}

// "Check out (checkout)": an element by its name and id; its id alone when it has no name.
function elementLabel(shape, id) {
  const name = shape.businessObject && shape.businessObject.name;
  return name ? `${name} (${id})` : id;
}

function showProblems(problems) {
  clearProblems();
  if (!problems.length) return;
  const registry = modeler.get('elementRegistry');
  const canvas = modeler.get('canvas');
  const byElement = new Map();
  for (const problem of problems) {
    const shape = problem.element && registry.get(problem.element);
    const item = el(
      'li',
      { class: `problem problem-${problem.severity}`, 'data-element': problem.element || '' },
      el('span', { class: 'problem-severity', text: problem.severity }),
      ' ',
      shape
        ? el('button', { type: 'button', class: 'link-button', text: elementLabel(shape, problem.element), onclick: () => focus(shape) })
        : el('code', { text: problem.element || 'process' }),
      `: ${problem.message} `,
      el('span', { class: 'muted', text: `(${problem.source})` }),
    );
    problemList.append(item);
    if (shape) byElement.set(shape, [...(byElement.get(shape) || []), problem]);
  }
  for (const [shape, list] of byElement) {
    const severity = list.some((p) => p.severity === 'error') ? 'error' : 'warning';
    const marker = `tf-has-${severity}`;
    canvas.addMarker(shape.id, marker);
    marked.push([shape.id, marker]);
    modeler.get('overlays').add(shape.id, 'tf-problem', {
      position: { top: -10, right: 10 },
      html: el('div', {
        class: `tf-problem-badge tf-problem-${severity}`,
        title: list.map((p) => p.message).join('\n'),
        text: String(list.length),
      }),
    });
  }
  problemsBox.hidden = false;
}

function focus(shape) {
  modeler.get('selection').select(shape);
  modeler.get('canvas').scrollToElement(shape);
}

async function check() {
  say('Validating…');
  const { xml } = await modeler.saveXML({ format: true });
  const problems = [...(await serverCheck(xml)), ...(await lint())];
  showProblems(problems);
  const errors = problems.filter((p) => p.severity === 'error').length;
  const warnings = problems.length - errors;
  if (!problems.length) say('No problems found.', 'ok');
  else say(`${errors} error(s), ${warnings} warning(s): see the list below and the marks on the diagram.`, errors ? 'error' : 'warning');
  return { xml, errors };
}

// -- deploy, files -----------------------------------------------------------------------

async function deploy() {
  const { xml, errors } = await check();
  if (errors) {
    say(`Deploy refused: ${errors} error(s) to fix first, listed below.`, 'error');
    return;
  }
  say('Deploying…');
  const url = `${root.dataset.deployUrl}?filename=${encodeURIComponent(fileName)}`;
  const answer = await post(url, csrf, xml, 'application/xml');
  if (answer.status === 422 && answer.data.problems) {
    showProblems(answer.data.problems.map((p) => ({ ...p, severity: p.severity || 'error', source: 'Tokenflow' })));
    say(`Deploy refused: ${answer.data.problems.length} problem(s), listed below.`, 'error');
    return;
  }
  if (!answer.ok) {
    say(`Deploy failed: ${answer.data.detail || answer.data.title}`, 'error');
    return;
  }
  dirty = false;
  const links = answer.data.deployed.map((d) =>
    el('a', { href: d.url, text: d.changed ? `${d.key} version ${d.version}` : `${d.key} version ${d.version} (unchanged)` }),
  );
  statusLine.replaceChildren(
    answer.data.deployed.some((d) => d.changed) ? 'Deployed ' : 'Nothing changed: ',
    ...links.flatMap((link, i) => (i ? [', ', link] : [link])),
    '.',
  );
  statusLine.dataset.kind = 'ok';
}

async function download() {
  const { xml } = await modeler.saveXML({ format: true });
  const link = el('a', { href: URL.createObjectURL(new Blob([xml], { type: 'application/xml' })), download: fileName });
  document.body.append(link);
  link.click();
  link.remove();
}

function openFile(input) {
  const [file] = input.files;
  if (!file) return;
  file.text().then((xml) => {
    fileName = file.name;
    return open(xml);
  }).catch((err) => say(`Cannot open ${file.name}: ${err.message}`, 'error'));
  input.value = '';
}

// -- called processes --------------------------------------------------------------------

function showCalled(selection) {
  const [element] = selection;
  const called = element && element.businessObject && element.businessObject.calledElement;
  if (selection.length === 1 && element.type === 'bpmn:CallActivity' && called) {
    calledLink.href = root.dataset.editUrl.replace('__KEY__', encodeURIComponent(called));
    calledLink.textContent = `Open the called process: ${called}`;
    calledLink.hidden = false;
  } else {
    calledLink.hidden = true;
  }
}

// -- dry run -----------------------------------------------------------------------------

const dryForm = root.querySelector('.dry-run-form');
const dryResult = root.querySelector('.dry-run-result');

function parseJson(name) {
  const text = dryForm.elements[name].value.trim() || '{}';
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${dryForm.elements[name].labels[0].textContent}: not valid JSON (${err.message})`);
  }
}

async function dryRun(event) {
  event.preventDefault();
  let body;
  try {
    const { xml } = await modeler.saveXML({ format: true });
    body = {
      xml,
      file_name: fileName,
      start: dryForm.elements.start.value || null,
      data: parseJson('data'),
      tasks: parseJson('tasks'),
      messages: parseJson('messages'),
      horizon_days: Number(dryForm.elements.horizon_days.value),
    };
  } catch (err) {
    say(err.message, 'error');
    return;
  }
  say('Running the dry run…');
  const answer = await post(root.dataset.dryRunUrl, csrf, JSON.stringify(body), 'application/json');
  if (!answer.ok) {
    if (answer.data.problems) showProblems(answer.data.problems.map((p) => ({ ...p, severity: p.severity || 'error', source: 'Tokenflow' })));
    const errors = answer.data.errors ? Object.entries(answer.data.errors).map(([k, v]) => `${k} ${v}`).join('; ') : '';
    say(`Dry run refused: ${answer.data.detail || answer.data.title} ${errors}`, 'error');
    return;
  }
  const run = answer.data;
  say(`Dry run of ${run.process}: ${run.status}.`, 'ok');
  dryResult.querySelector('.dry-run-summary').textContent = `${run.process} ended ${run.status}. ${run.stopped}`;
  dryResult.querySelector('.dry-run-path').replaceChildren(
    ...run.steps.map((step) =>
      el(
        'li',
        { class: `step step-${step.event.replace('.', '-')}`, 'data-element': step.element || '' },
        el('span', { class: 'step-time', text: `+${duration(step.elapsed_seconds)}` }),
        ' ',
        el('span', { class: 'step-event', text: step.event }),
        ' ',
        step.element ? el('strong', { text: step.name || step.element }) : '',
        step.detail ? el('span', { class: 'muted', text: ` (${step.detail})` }) : '',
      ),
    ),
  );
  dryResult.hidden = false;
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  for (const marker of ['tf-visited', 'tf-failed']) {
    for (const shape of registry.filter((s) => canvas.hasMarker(s, marker))) canvas.removeMarker(shape, marker);
  }
  for (const id of run.visited) if (registry.get(id)) canvas.addMarker(id, 'tf-visited');
  // Where the diagram failed: marked on the diagram, the reason beside the path.
  for (const failure of run.failed) if (registry.get(failure.element)) canvas.addMarker(failure.element, 'tf-failed');
  dryResult.querySelector('.dry-run-failures').replaceChildren(
    ...run.failed.map((f) =>
      el(
        'li',
        { class: 'step step-failed', 'data-element': f.element },
        el('strong', { text: f.name || f.element }),
        `: ${f.reason}`,
        f.expression ? el('code', { text: ` ${f.expression}` }) : '',
      ),
    ),
  );
}

// -- wiring ------------------------------------------------------------------------------

function guarded(action) {
  return () => action().catch((err) => say(err.message, 'error'));
}

root.querySelector('[data-action="check"]').addEventListener('click', guarded(check));
root.querySelector('[data-action="deploy"]').addEventListener('click', guarded(deploy));
root.querySelector('[data-action="download"]').addEventListener('click', guarded(download));
root.querySelector('[data-action="open"]').addEventListener('change', (e) => openFile(e.target));
dryForm.addEventListener('submit', (e) => dryRun(e).catch((err) => say(err.message, 'error')));
modeler.on('selection.changed', ({ newSelection }) => showCalled(newSelection));
modeler.on('commandStack.changed', () => {
  dirty = true;
});
window.addEventListener('beforeunload', (event) => {
  if (dirty) event.preventDefault();
});

fetch(root.dataset.xmlUrl, { credentials: 'same-origin' })
  .then((response) => response.text())
  .then(open)
  .then(() => root.setAttribute('data-ready', 'true'))
  .catch((err) => say(`The diagram cannot be opened: ${err.message}`, 'error'));
