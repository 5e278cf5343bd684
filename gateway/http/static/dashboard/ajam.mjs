// Talking to the gateway: each action goes as a form to {prefix}/json with
// the session cookie (same origin); its answer is {response, events}, and
// every value in it is read as text.

export const BASE = new URL("../../", location.href); // {prefix}/static/dashboard/ -> {prefix}/

/** One action through {prefix}/json: the answer's {response, events}. */
export async function send(fields) {
  const reply = await fetch(new URL("json", BASE), {
    method: "POST",
    body: new URLSearchParams(fields),
    credentials: "same-origin",
  });
  if (!reply.ok) throw new Error(`the gateway answered HTTP ${reply.status}`);
  return reply.json();
}

export function succeeded(answer) {
  return answer.response !== null && answer.response.Response === "Success";
}

/** A value as text: repeated keys arrive as arrays; Asterisk writes "<unknown>" for none. */
export function text(value) {
  const joined = Array.isArray(value) ? value.join(", ") : (value ?? "");
  return joined === "<unknown>" ? "" : joined;
}

export async function logIn({ username, secret }) {
  const answer = await send({ Action: "Login", Username: username, Secret: secret });
  return succeeded(answer) ? null : text(answer.response?.Message) || "Login failed";
}
