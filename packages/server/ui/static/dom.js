// Small DOM helpers shared by every page. Values are inserted with textContent or attribute
// setters, never as markup.

/** The page's content area. */
export const main = document.getElementById("main");

/** How many pages the router has begun to draw. */
let renders = 0;

/** The router begins drawing a page: every render begun before it is stale from now on. */
export function beginRender() {
  renders += 1;
}

/**
 * Taken by a page's render before it waits for the API: `true` once the router has begun another
 * page (the user moved on), so a late answer draws nothing over the page shown now.
 */
export function renderGuard() {
  const mine = renders;
  return () => mine !== renders;
}

// ---------- small DOM helpers ------------------------------------------------------------------

/** Create an element; `attrs` are properties/attributes, children are nodes or text. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    // Style through the CSSOM: the page's CSP forbids inline style attributes.
    else if (key === "style") Object.assign(node.style, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** `node.append` that skips null/undefined/false (DOM append would print them as text). */
export function put(node, ...children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child);
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

export function badge(status) {
  return el("span", { class: `badge ${status}`, dataset: { status }, text: status });
}

/** Replace the page with an error box (code, message, hint). */
export function showError(err) {
  clear(main);
  put(
    main,
    el(
      "div",
      { class: "error-box" },
      `${err.code ?? "ERROR"}: ${err.message}`,
      err.hint ? el("div", { class: "muted", text: err.hint }) : null,
    ),
  );
}

let leaving = [];

/** Run `fn` when the router leaves the current page (timers, subscriptions). */
export function onLeave(fn) {
  leaving.push(fn);
}

/** Called by the router before rendering the next page. */
export function leavePage() {
  const fns = leaving;
  leaving = [];
  for (const fn of fns) fn();
}
