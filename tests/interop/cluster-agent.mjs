// An agent on the official MCP TypeScript SDK holding one conversation through a load balancer: connect, list tools,
// open a browser session, 30 mixed tool calls, close it.
//   node cluster-agent.mjs <base url> <api key> <http|sse> <fixture site url>
// Prints one JSON object: { tools, calls, failures: ["tool: text"], closed }.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

const [base, key, mode, site] = process.argv.slice(2);
const headers = { Authorization: `Bearer ${key}` };
const transport = mode === "sse"
  ? new SSEClientTransport(new URL("sse", base), {
      requestInit: { headers },
      eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers ?? {}), ...headers } }) },
    })
  : new StreamableHTTPClientTransport(new URL("mcp", base), { requestInit: { headers } });

const client = new Client({ name: "cluster-agent", version: "1.0.0" });
await client.connect(transport);
const text = (result) => result.content.find((c) => c.type === "text")?.text ?? "";
const { tools } = await client.listTools();

const created = await client.callTool({ name: "browser_session_create", arguments: {} });
const session_id = JSON.parse(text(created)).session_id;
const failures = [];
let calls = 0;
for (let round = 0; round < 3; round++) {
  const name = `Node ${round}`;
  const steps = [
    ["browser_navigate", { url: `${site}/form` }],
    ["browser_type", { target: "#name", text: name, element: "Name box" }],
    ["browser_select_option", { target: "#color", values: ["green"] }],
    ["browser_click", { target: "#greet", element: "Greet" }],
    ["browser_wait_for", { text: `Hello, ${name} in green` }],
    ["browser_hover", { target: "#tip" }],
    ["browser_snapshot", {}],
    ["browser_navigate", { url: `${site}/list` }],
    ["browser_extract", { item_selector: ".item", fields: { name: "h2" } }],
    ["budget_status", null],
  ];
  for (const [tool, args] of steps) {
    calls++;
    try {
      const result = await client.callTool({ name: tool, arguments: args === null ? {} : { session_id, ...args } });
      if (result.isError) failures.push(`${tool}: ${text(result)}`);
    } catch (e) {
      failures.push(`${tool}: ${e.message}`);
    }
  }
}

const closed = await client.callTool({ name: "browser_session_close", arguments: { session_id } });
if (mode !== "sse") await transport.terminateSession();
await client.close();
console.log(JSON.stringify({ tools: tools.map((t) => t.name).sort(), calls, failures, closed: !closed.isError }));
