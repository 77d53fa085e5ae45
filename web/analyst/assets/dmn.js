// The decision page: the DMN file in dmn-js's modeler, opened on the decision's table;
// validation by the server's checks; deploy, refused while any error remains.
import DmnModeler from 'dmn-js/lib/Modeler';
import { el, post } from './common.js';

const root = document.getElementById('dmn-editor');
const csrf = root.dataset.csrfToken;
const statusLine = root.querySelector('.modeler-status');
const problemsBox = root.querySelector('.problems');
const problemList = root.querySelector('.problem-list');
const fileName = root.dataset.fileName;
const modeler = new DmnModeler({ container: root.querySelector('.dmn-canvas') });

function say(text, kind = 'info') {
  statusLine.textContent = text;
  statusLine.dataset.kind = kind;
}

function showProblems(problems) {
  problemList.replaceChildren(
    ...problems.map((p) =>
      el('li', { class: `problem ${p.severity || 'error'}` },
        el('strong', { text: p.severity === 'warning' ? 'Warning' : 'Error' }), ' ',
        p.element ? el('code', { text: p.element }) : null, p.element ? ': ' : '', p.message),
    ),
  );
  problemsBox.hidden = problems.length === 0;
}

async function xml() {
  return (await modeler.saveXML({ format: true })).xml;
}

async function check() {
  const answer = await post(`${root.dataset.checkUrl}?filename=${encodeURIComponent(fileName)}`, csrf, await xml(), 'application/xml');
  if (!answer.ok) throw new Error(answer.data.detail || answer.data.title);
  showProblems(answer.data.problems);
  return answer.data.problems;
}

async function deploy() {
  const answer = await post(`${root.dataset.deployUrl}?filename=${encodeURIComponent(fileName)}`, csrf, await xml(), 'application/xml');
  if (answer.ok) {
    showProblems(answer.data.warnings || []);
    const mine = answer.data.deployed.find((d) => d.key === root.dataset.decision) || answer.data.deployed[0];
    say(mine.changed ? `Deployed as version ${mine.version}.` : `Unchanged: still version ${mine.version}.`, 'ok');
    if (mine.changed) window.location.assign(mine.url);
    return;
  }
  showProblems(answer.data.problems || []);
  say(answer.data.detail || answer.data.title || 'The deploy was refused.', 'error');
}

async function run(action) {
  try {
    if (action === 'check') {
      const problems = await check();
      const errors = problems.filter((p) => (p.severity || 'error') === 'error').length;
      say(errors ? `${errors} error(s): fix them before deploying.` : 'No errors.', errors ? 'error' : 'ok');
    } else if (action === 'deploy') {
      await deploy();
    }
  } catch (err) {
    say(`Could not ${action}: ${err.message}`, 'error');
  }
}

async function open() {
  try {
    const response = await fetch(root.dataset.xmlUrl, { credentials: 'same-origin' });
    const { warnings } = await modeler.importXML(await response.text());
    const table = modeler.getViews().find(
      (v) => v.type === 'decisionTable' && v.element.id === root.dataset.decision,
    );
    if (table) await modeler.open(table);
    say(warnings.length ? `Opened; the importer says: ${warnings.map((w) => w.message).join('; ')}` : 'Opened.');
  } catch (err) {
    say(`The decision cannot be shown: ${err.message}`, 'error');
  }
}

root.querySelectorAll('[data-action]').forEach((button) => {
  button.addEventListener('click', () => run(button.dataset.action));
});
open().then(() => root.setAttribute('data-ready', 'true'));
