// An agent on the official MCP TypeScript SDK (what LibreChat and most JS agents use), driving Anchor.Orleans
// like it would drive @playwright/mcp: no session_id, targets by ref and by selector.
//   node agent.mjs <base url> <api key> <http|sse> <form page url>
// Prints one JSON object with what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const [base, key, mode, formUrl] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${key}` };
const transport = mode === "sse"
  ? new SSEClientTransport(new URL("sse", base), {
      requestInit: { headers },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers ?? {}), ...headers } }) },
    })
  : new StreamableHTTPClientTransport(new URL("mcp", base), { requestInit: { headers } });

const client = new Client({ name: "interop-agent", version: "1.0.0" });
await client.connect(transport);
const text = (result) => result.content.find((c) => c.type === "text")?.text ?? "";

const { tools } = await client.listTools();
// The SDK checks each JSON tool's structuredContent against the outputSchema listed above (and throws if it is missing).
const budget = await client.callTool({ name: "budget_status", arguments: {} });
const created = await client.callTool({ name: "browser_session_create", arguments: {} });
await client.callTool({ name: "browser_session_close", arguments: { session_id: created.structuredContent.session_id } });
await client.callTool({ name: "browser_navigate", arguments: { url: formUrl } });
await client.callTool({ name: "browser_type", arguments: { target: "#name", text: `Node ${mode}`, element: "Name box" } });
const snapshot = text(await client.callTool({ name: "browser_snapshot", arguments: {} }));
const ref = /- button "Greet"[^\n]*\[ref=(e[0-9]+)\]/.exec(snapshot)?.[1];
const clicked = await client.callTool({ name: "browser_click", arguments: { target: ref, element: "Greet button" } });
const closed = text(await client.callTool({ name: "browser_close", arguments: {} }));
await client.close();

const structured = { budget_status: budget.structuredContent, browser_session_create: created.structuredContent };
console.log(JSON.stringify({ tools: tools.map((t) => t.name).sort(), structured, ref, clicked: text(clicked), isError: clicked.isError ?? false, closed }));
