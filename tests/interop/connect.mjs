// One connection for the interop agents: the official MCP TypeScript SDK client over Streamable HTTP or legacy SSE,
// sending the API key on every request (the SSE stream's own GET included).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

export async function connect(base, key, mode, name) {
  const headers = { Authorization: `Bearer ${key}` };
  const transport = mode === "sse"
    ? new SSEClientTransport(new URL("sse", base), {
        requestInit: { headers },
        eventSourceInit: { fetch: (url, init) => fetch(url, { ...init, headers: { ...(init?.headers ?? {}), ...headers } }) },
      })
    : new StreamableHTTPClientTransport(new URL("mcp", base), { requestInit: { headers } });
  const client = new Client({ name, version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** The first text item of a tool result. */
export const text = (result) => result.content.find((c) => c.type === "text")?.text ?? "";
