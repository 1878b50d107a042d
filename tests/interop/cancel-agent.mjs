// An agent on the official MCP TypeScript SDK that gives up on a call: it aborts a 60 s browser_wait_for with an
// AbortSignal (the SDK sends notifications/cancelled) once the session runs it, then calls again at once.
//   node cancel-agent.mjs <base url> <api key> <page url>
// Prints one JSON object with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [base, key, pageUrl] = process.argv.slice(2);
const transport = new StreamableHTTPClientTransport(new URL("mcp", base), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
const client = new Client({ name: "interop-cancel-agent", version: "1.0.0" });
await client.connect(transport);
const text = (result) => result.content.find((c) => c.type === "text")?.text ?? "";
const mine = async (session) => JSON.parse(text(await client.callTool({ name: "browser_session_list", arguments: {} }))).sessions.find((s) => s.session_id === session);

const session = JSON.parse(text(await client.callTool({ name: "browser_session_create", arguments: {} }))).session_id;
await client.callTool({ name: "browser_navigate", arguments: { url: pageUrl, session_id: session } });
const actionsBefore = (await mine(session)).actions;

const abort = new AbortController();
const wait = client.callTool({ name: "browser_wait_for", arguments: { time: 60, session_id: session } }, undefined, { signal: abort.signal, timeout: 90_000 })
  .then(() => "answered", (e) => `${e.name}: ${e.message}`);
const deadline = Date.now() + 15_000;
while ((await mine(session)).running !== "wait_for" && Date.now() < deadline) {
  // Polls the session until it runs the wait (each poll is a round trip).
}

const abortedAt = performance.now();
abort.abort();
const aborted = await wait;
const next = text(await client.callTool({ name: "browser_snapshot", arguments: { session_id: session } }));
const nextMs = performance.now() - abortedAt;
await client.close();

console.log(JSON.stringify({ session, actionsBefore, aborted, nextMs, next }));
