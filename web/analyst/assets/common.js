// Small helpers shared by the viewer and the modeler: DOM building without innerHTML,
// requests carrying the CSRF token, durations for people.

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export async function post(url, csrfToken, body, contentType) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': contentType, 'X-CSRFToken': csrfToken, Accept: 'application/json' },
    body,
  });
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = { title: `HTTP ${response.status}`, detail: response.statusText };
  }
  return { status: response.status, ok: response.ok, data };
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '-';
  const whole = Math.round(seconds);
  const parts = [
    [Math.floor(whole / 86400), 'd'],
    [Math.floor((whole % 86400) / 3600), 'h'],
    [Math.floor((whole % 3600) / 60), 'min'],
    [whole % 60, 's'],
  ];
  const shown = parts.filter(([n]) => n).slice(0, 2).map(([n, unit]) => `${n} ${unit}`);
  return shown.join(' ') || '0 s';
}
